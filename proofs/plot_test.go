package proofs

import (
	"image/png"
	"os"
	"testing"
)

// WritePlots writes two decodable PNGs of the documented size for a shared
// and a duty configuration.
func TestWritePlots(t *testing.T) {
	for _, name := range []string{"default", "duty-vct"} {
		dir := t.TempDir()
		files, err := WritePlots(loadParams(t, name), dir, PlotOptions{Seed: 1, Prefix: name + "-"})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{files.Phase, files.Gap} {
			r, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(r)
			r.Close()
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if b := img.Bounds(); b.Dx() < 500 || b.Dy() < 300 {
				t.Errorf("%s: %dx%d pixels, too small to read", f, b.Dx(), b.Dy())
			}
		}
	}
	if _, err := WritePlots(loadParams(t, "default"), t.TempDir(), PlotOptions{Init: []int{1}}); err == nil {
		t.Error("WritePlots accepted initial demands of the wrong length")
	}
}
