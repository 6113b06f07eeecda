package main

import (
	_ "github.com/leanovate/gopter"
	_ "github.com/spf13/cobra"
	_ "golang.org/x/sys/unix"
	_ "gonum.org/v1/gonum/mat"
	_ "gonum.org/v1/plot"
	_ "pgregory.net/rapid"
)

func main() {}
