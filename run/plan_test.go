package run

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
	"github.com/a0bulk/a0bulk/sandbox"
)

// validateBytes plans data, read from stdin, for import at limit.
func validateBytes(t testing.TB, data []byte, f input.Format, limit int) *Plan {
	t.Helper()
	p, err := Validate(context.Background(), Env{Stdin: bytes.NewReader(data)}, []string{"-"}, string(f), "", input.ModeImport, limit)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Fill: on realistic users, full import files use more than 95% of the
// limit, and none is over it.
func TestPlanFillRealistic(t *testing.T) {
	for i, f := range []input.Format{input.FormatCSV, input.FormatJSON, input.FormatNDJSON} {
		var buf bytes.Buffer
		if err := gen.Users(int64(i)+1, 3000, &buf, f, gen.GenOptions{}); err != nil {
			t.Fatal(err)
		}
		const limit = 100_000
		p := validateBytes(t, buf.Bytes(), f, limit)
		if p.Records != 3000 || p.Invalid != 0 || len(p.ChunkBytes) < 3 {
			t.Fatalf("%s: %+v", f, p)
		}
		sum := 0
		for _, n := range p.ChunkBytes {
			if n > limit {
				t.Fatalf("%s: a file of %d bytes over the %d limit", f, n, limit)
			}
		}
		for _, n := range p.ChunkBytes[:len(p.ChunkBytes)-1] {
			sum += n
		}
		if fill := float64(sum) / float64(len(p.ChunkBytes)-1) / limit; fill < 0.95 {
			t.Errorf("%s: fill %.3f", f, fill)
		}
	}
}

func TestPlanCountsInvalidAndDuplicates(t *testing.T) {
	var buf bytes.Buffer
	if err := gen.Users(42, 2000, &buf, input.FormatCSV, gen.GenOptions{InvalidRate: 0.05, DuplicateRate: 0.02}); err != nil {
		t.Fatal(err)
	}
	p := validateBytes(t, buf.Bytes(), input.FormatCSV, 100_000)
	if p.Records != 2000 || p.Valid+p.Invalid != p.Records || len(p.Problems) != p.Invalid {
		t.Fatalf("counts %+v", p)
	}
	// About 7% bad: allow generous slack, but both kinds must occur.
	if p.Invalid < 60 || p.Invalid > 220 {
		t.Errorf("invalid %d of 2000", p.Invalid)
	}
}

// The planner applies each send mode's own rules, as the run does: a record
// too large for one import file, a create without a password.
func TestPlanRulesOfTheSendMode(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "u.csv")
	body := "email,name,password\na@x.io,short,Correct-Horse-9\nb@x.io," + strings.Repeat("n", 200) + ",Correct-Horse-9\nc@x.io,nopass,\n"
	if err := os.WriteFile(csv, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	imp := strings.Replace(body, ",password", "", 1)
	imp = strings.NewReplacer(",Correct-Horse-9", "").Replace(imp)
	imp = strings.Replace(imp, "nopass,\n", "nopass\n", 1)
	impPath := filepath.Join(dir, "i.csv")
	if err := os.WriteFile(impPath, []byte(imp), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sandbox.New(sandbox.Config{}))
	t.Cleanup(ts.Close)
	for _, tc := range []struct {
		name    string
		spec    Spec
		invalid map[int]string // line → reason
	}{
		{"import: too large", Spec{Mode: ModeImport, Inputs: []string{impPath}}, map[int]string{3: "record: larger than the 100-byte import file limit"}},
		{"create: password", Spec{Mode: ModeCreate, Inputs: []string{csv}}, map[int]string{4: "password: required to create a user"}},
		{"create: random password", Spec{Mode: ModeCreate, Inputs: []string{csv}}, nil},
		{"sync create: password", Spec{Mode: ModeSync, Inputs: []string{csv}}, map[int]string{4: "password: required"}},
		{"sync import: too large", Spec{Mode: ModeSync, Inputs: []string{impPath}}, map[int]string{3: "record: larger than"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			spec.ChunkBytes = 100
			spec.RandomPassword = strings.Contains(tc.name, "random")
			if spec.Mode == ModeSync {
				spec.SyncMode = map[bool]string{true: "create", false: "import"}[strings.Contains(tc.name, "create")]
				spec.State = filepath.Join(t.TempDir(), "none.state")
			}
			// Import and create dry runs also look the connection up.
			spec.Connection = "Username-Password-Authentication"
			p, err := DryRun(context.Background(), Env{Connect: testConnect(t, ts.URL)}, spec, nil)
			if err != nil {
				t.Fatal(err)
			}
			if p.Records != 3 || p.Invalid != len(tc.invalid) {
				t.Fatalf("plan %+v, want %d invalid", p, len(tc.invalid))
			}
			for _, pr := range p.Problems {
				if want, ok := tc.invalid[pr.Line]; !ok || !strings.HasPrefix(pr.Reason, want) {
					t.Errorf("line %d: %q, want %q", pr.Line, pr.Reason, want)
				}
			}
		})
	}
}

// Each input is read in turn; one whose remainder cannot be read is one
// invalid record at the line where it broke, and the next is read.
func TestValidateAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	paths := []string{
		write("a.csv", "email\na@x.io\nbad\nb@x.io\n"),
		write("c.json", "[{\"email\":\"c@x.io\"},\n{\"email\":\"A@x.io\"},\n{]"), // a duplicate, then malformed
	}
	p, err := Validate(context.Background(), Env{}, paths, "", "", input.ModeImport, 42)
	if err != nil {
		t.Fatal(err)
	}
	// The malformed remainder of c.json counts as one invalid record.
	if p.Records != 6 || p.Valid != 3 || p.Invalid != 3 {
		t.Errorf("counts %+v", p)
	}
	// 18-byte users, limit 42: [a,b] is 39 bytes, c starts a new file.
	if len(p.ChunkBytes) != 2 || p.ChunkBytes[0] != 39 || p.ChunkBytes[1] != 20 {
		t.Errorf("chunks %v", p.ChunkBytes)
	}
	var got []string
	for _, pr := range p.Problems {
		got = append(got, filepath.Base(pr.File)+":"+pr.Reason)
	}
	if len(got) != 3 || !strings.HasPrefix(got[0], "a.csv:email: not an email address") || !strings.Contains(got[1], "duplicate of") ||
		!strings.HasPrefix(got[2], "c.json:malformed JSON") || p.Problems[2].Line != 3 {
		t.Errorf("problems %q", got)
	}
}

func benchmarkValidate(b *testing.B, f input.Format) {
	const n = 20000
	var buf bytes.Buffer
	if err := gen.Users(1, n, &buf, f, gen.GenOptions{InvalidRate: 0.01, DuplicateRate: 0.01}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if p := validateBytes(b, data, f, 500_000); p.Records != n {
			b.Fatalf("%+v", p)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "users/s")
}

// The read + validate + chunk figures of make bench: run.Validate is what
// validate and every dry run use, and the front of every run's loop.
func BenchmarkReadValidateChunkCSV(b *testing.B)    { benchmarkValidate(b, input.FormatCSV) }
func BenchmarkReadValidateChunkJSON(b *testing.B)   { benchmarkValidate(b, input.FormatJSON) }
func BenchmarkReadValidateChunkNDJSON(b *testing.B) { benchmarkValidate(b, input.FormatNDJSON) }
