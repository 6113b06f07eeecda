package main
import (
 _ "github.com/leanovate/gopter"
 _ "github.com/spf13/cobra"
 _ "gonum.org/v1/gonum/mat"
 _ "gonum.org/v1/plot"
 _ "pgregory.net/rapid"
 _ "golang.org/x/sys/unix"
)
func main(){}
