package report

import (
	"image/png"
	"os"
	"testing"

	"github.com/friendly-vm/fvm/configs"
	"github.com/friendly-vm/fvm/ref"
)

// WriteProofPlots writes two decodable PNGs of the documented size for a shared
// and a duty configuration.
func TestWriteProofPlots(t *testing.T) {
	for _, name := range []string{"default", "duty-vct"} {
		dir := t.TempDir()
		files, err := WriteProofPlots(proofParams(t, name), dir, ProofPlotOptions{Seed: 1, Prefix: name + "-"})
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
	if _, err := WriteProofPlots(proofParams(t, "default"), t.TempDir(), ProofPlotOptions{Init: []int{1}}); err == nil {
		t.Error("WritePlots accepted initial demands of the wrong length")
	}
}

func proofParams(t *testing.T, name string) *ref.Params {
	t.Helper()
	p, err := configs.LoadParams(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
