package run

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/create"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
	"github.com/a0bulk/a0bulk/words"
)

// A create whose every answer is lost before the tenant acts is sent again,
// after looking the user up, as often as the run's --max-retries allows (0:
// never), then reported UNKNOWN_FATE; the runner used to stop after 3
// attempts whatever the flag said.
func TestCreateResendsWithinMaxRetries(t *testing.T) {
	for _, retries := range []int{0, 2, 7} {
		t.Run(fmt.Sprint(retries), func(t *testing.T) {
			sb := sandbox.New(sandbox.Config{JobDelay: -1, Faults: sandbox.Faults{Seed: 1, ResetBefore: 1}})
			ts := httptest.NewServer(sb)
			t.Cleanup(ts.Close)
			dir := t.TempDir()
			in := filepath.Join(dir, "users.csv")
			if err := os.WriteFile(in, []byte("email,password\na@example.com,Correct-Horse-9-Battery\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			spec := Spec{Mode: ModeCreate, Connection: "Username-Password-Authentication", Inputs: []string{in}, ReportPath: filepath.Join(dir, "run.ndjson")}
			spec.Concurrency, spec.MaxRetries = 1, retries
			_, err := Run(context.Background(), Env{Connect: testConnect(t, ts.URL)}, spec)
			var inc *IncompleteError
			if !errors.As(err, &inc) {
				t.Fatalf("run: %v, want incomplete", err)
			}
			f := finals(t, spec.ReportPath)["a@example.com"]
			want := "after " + words.Count(retries+1, "attempt")
			if f.Status != report.Failed || f.Code != create.CodeUnknownFate || !strings.Contains(f.Reason, want) {
				t.Fatalf("final %+v, want failed UNKNOWN_FATE %s", f, want)
			}
			if n := sb.Stats().Requests["POST /api/v2/users"]; n != retries+1 || len(sb.Users()) != 0 {
				t.Fatalf("%d creates sent, tenant holds %d users; want %d, 0", n, len(sb.Users()), retries+1)
			}
		})
	}
}
