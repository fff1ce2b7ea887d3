package bench

import (
	"reflect"
	"testing"
)

// TestScaleEnv: the sizes and steps BenchmarkScale reads from its
// environment (make bench and make bench-large set them).
func TestScaleEnv(t *testing.T) {
	sizes, err := parseSizes("100k, 1m,10M,2500")
	if want := []int{100_000, 1_000_000, 10_000_000, 2500}; err != nil || !reflect.DeepEqual(sizes, want) {
		t.Errorf("sizes %v, %v; want %v", sizes, err, want)
	}
	for _, bad := range []string{"", "1g", "-5k", "k"} {
		if _, err := parseSizes(bad); err == nil {
			t.Errorf("size %q accepted", bad)
		}
	}
	all, err := parseSteps("all")
	if err != nil || len(all) != len(scaleSteps) {
		t.Errorf("all: %v, %v", all, err)
	}
	some, err := parseSteps("import, sync")
	if err != nil || !reflect.DeepEqual(some, map[string]bool{"import": true, "sync": true}) {
		t.Errorf("some: %v, %v", some, err)
	}
	if none, err := parseSteps("none"); err != nil || len(none) != 0 {
		t.Errorf("none: %v, %v", none, err)
	}
	if _, err := parseSteps("import,resume"); err == nil {
		t.Error("an unknown step accepted")
	}
}
