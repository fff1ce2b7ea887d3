package cli

import (
	"reflect"
	"strings"
	"testing"
)

func TestInterspersedMovesFlagsBeforePositionals(t *testing.T) {
	app := NewApp(Test(nil, nil, nil))
	tests := []struct{ in, want string }{
		{"a0bulk jobs wait job_1 --timeout 5m", "a0bulk jobs wait --timeout 5m -- job_1"},
		{"a0bulk jobs status job_1 --output json --verbose", "a0bulk jobs status --output json --verbose -- job_1"},
		{"a0bulk --output json jobs errors job_1 -o text", "a0bulk --output json jobs errors -o text -- job_1"},
		{"a0bulk report summary run.ndjson --output=json", "a0bulk report summary --output=json -- run.ndjson"},
		{"a0bulk import --input - --connection DB", "a0bulk import --input - --connection DB"},
		{"a0bulk import --dry-run --connection DB", "a0bulk import --dry-run --connection DB"},
		{"a0bulk jobs wait -- -job-with-dash", "a0bulk jobs wait -- -job-with-dash"},
		{"a0bulk nosuch x --y", "a0bulk nosuch x --y"},
		{"a0bulk", "a0bulk"},
	}
	for _, tt := range tests {
		got := interspersed(app, strings.Fields(tt.in))
		if want := strings.Fields(tt.want); !reflect.DeepEqual(got, want) {
			t.Errorf("%s\n got %q\nwant %q", tt.in, got, want)
		}
	}
}
