package mc

import "time"

func spin(ns int64) {
	t := time.Now()
	for time.Since(t).Nanoseconds() < ns {
	}
}
