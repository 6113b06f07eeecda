package mutate_test

import (
	"fmt"
	"strings"

	"github.com/friendly-vm/fvm/mutate"
)

func ExampleParse() {
	list := `=== clamp-at-dmin
file: ref/step.go
kind: off-by-one
why: a decrease landing on dmin is labelled a clamp
test: -run TestApply ./ref
--- search
if next < int64(p.Dmin) {
+++ replace
if next <= int64(p.Dmin) {
`
	ms, err := mutate.Parse(strings.NewReader(list), "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	m := ms[0]
	out, _ := m.Apply([]byte("\tif next < int64(p.Dmin) {\n"))
	fmt.Printf("%s (%s, %s): %q\n", m.Name, m.Area(), m.Kind, out)
	// Output: clamp-at-dmin (ref, off-by-one): "\tif next <= int64(p.Dmin) {\n"
}
