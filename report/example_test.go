package report_test

import (
	"fmt"

	"github.com/friendly-vm/fvm/report"
)

func ExampleDoc_Markdown() {
	d := report.Doc{Title: "fvm check default"}
	d.Heading(2, "Verdicts")
	d.Table([]string{"property", "verdict"}, [][]string{{"Bounds", "holds"}, {"Fair", "holds"}})
	fmt.Print(string(d.Markdown()))
	// Output:
	// # fvm check default
	//
	// ## Verdicts
	//
	// | property | verdict |
	// |---|---|
	// | Bounds | holds |
	// | Fair | holds |
}
