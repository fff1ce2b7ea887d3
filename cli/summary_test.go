package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/run"
)

// The summary counts each rate-limit bucket's requests, 429s and time
// waited, as text and in --output json.
func TestSummaryShowsBuckets(t *testing.T) {
	sum := run.Summary{Command: "import", Records: 3, Counts: map[string]int{"created": 3},
		Buckets: []run.BucketCounts{{Name: "POST /api/v2/users", Requests: 40, RateLimited: 3, WaitedSeconds: 12.5, Limit: 20, PerSecond: 3.33}, {Name: "token", Requests: 1}}}
	var out bytes.Buffer
	s := Test(strings.NewReader(""), &out, &bytes.Buffer{})
	if err := printSummary(s, globalOptions{}, sum); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"rate-limit bucket POST /api/v2/users (burst 20, 3.33/s): 40 requests (3 answered 429), waited 12.5s\n",
		"rate-limit bucket token: 1 request (0 answered 429), waited 0s\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text summary lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := printSummary(s, globalOptions{JSON: true}, sum); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Buckets []map[string]any `json:"rate_limit_buckets"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Buckets) != 2 || got.Buckets[0]["name"] != "POST /api/v2/users" || got.Buckets[0]["limit"] != 20.0 || got.Buckets[0]["requests"] != 40.0 ||
		got.Buckets[0]["rate_limited"] != 3.0 || got.Buckets[0]["waited_seconds"] != 12.5 {
		t.Errorf("json buckets %v", got.Buckets)
	}
}
