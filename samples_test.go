package bouncer

import (
	"io/fs"
	"path/filepath"
	"testing"
)

// TestSamplesEmbedAll checks that the demo gets every sample of testdata/.
func TestSamplesEmbedAll(t *testing.T) {
	onDisk, err := filepath.Glob("testdata/*.eml")
	if err != nil || len(onDisk) == 0 {
		t.Fatalf("no samples in testdata: %v", err)
	}
	embedded, err := fs.Glob(Samples, "testdata/*.eml")
	if err != nil {
		t.Fatal(err)
	}
	if len(embedded) != len(onDisk) {
		t.Errorf("Samples holds %d messages, testdata/ %d", len(embedded), len(onDisk))
	}
}
