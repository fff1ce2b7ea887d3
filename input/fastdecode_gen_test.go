package input_test

import (
	"bufio"
	"bytes"
	"os"
	"reflect"
	"testing"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
)

// TestFastDecodeMatchesReferenceOnGenerated runs the generator's users
// (valid, invalid, export-shaped, create-shaped) and the fixtures through
// both paths.
func TestFastDecodeMatchesReferenceOnGenerated(t *testing.T) {
	var inputs [][]byte
	for _, o := range []gen.GenOptions{{InvalidRate: 0.3, DuplicateRate: 0.1}, {Export: true, InvalidRate: 0.2}, {Mode: input.ModeCreate}} {
		var buf bytes.Buffer
		if err := gen.Users(3, 300, &buf, input.FormatNDJSON, o); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, buf.Bytes())
	}
	for _, f := range []string{"../fixtures/export.ndjson", "../fixtures/demo-existing.ndjson"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, b)
	}
	n := 0
	for _, in := range inputs {
		sc := bufio.NewScanner(bytes.NewReader(in))
		for sc.Scan() {
			for _, mode := range []input.Mode{input.ModeImport, input.ModeCreate} {
				fast, slow := input.FastAndReference(sc.Bytes(), mode, true)
				if !reflect.DeepEqual(fast, slow) {
					t.Fatalf("%s:\nfast %+v\nslow %+v", sc.Bytes(), fast, slow)
				}
				if got, want, ok := input.EncodeBoth(&fast.User); ok && got != want {
					t.Fatalf("chunker encoding:\n got %s\nwant %s", got, want)
				}
				n++
			}
		}
	}
	if n < 1000 {
		t.Fatalf("only %d lines compared", n)
	}
}
