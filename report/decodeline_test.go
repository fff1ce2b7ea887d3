package report

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// decodeLine must read every line exactly as encoding/json does: same
// fields, same error or none. The lines the writer produces take the fast
// path; the rest prove the fallback.
func TestDecodeLineMatchesJSON(t *testing.T) {
	lines := []struct {
		line string
		fast bool // whether the fast path must take it
	}{
		{`{"file":"users.csv","line":12,"email":"a@example.com","status":"created","user_id":"auth0|1","job_id":"job_1","code":"","reason":"","at":"2026-11-25T10:00:00Z","record":12}`, true},
		{`{"file":"u.ndjson","line":3,"email":"b@example.com","status":"queued","user_id":"","job_id":"","code":"","reason":"","at":"2026-12-06T01:28:18.578012306Z","chunk":1,"record":3}`, true},
		{`{"file":"","line":0,"email":"","status":"submitted","user_id":"","job_id":"job_x","code":"","reason":"","at":"2026-12-06T01:28:18.661399355+01:00","chunk":1}`, true},
		{`{"status":"resumed","at":"2026-12-06T01:28:18Z","for":"retry"}`, true},
		{` { "file" : "é.csv" , "line" : 1 }  `, true},
		{`{}`, true},
		{`{"file":"a","reason":"the user \"x\" exists","line":1}`, false},    // escapes
		{`{"file":"a","email":"\u003cb@example.com\u003e","line":1}`, false}, // escaped < >
		{`{"File":"a","line":1}`, false},                                     // json matches keys case-insensitively
		{`{"file":"a","line":1,"line":2}`, true},                             // the last one wins, in both
		{`{"file":"a","line":-1}`, false},
		{`{"file":"a","line":1.5}`, false},
		{`{"file":"a","line":01}`, false},
		{`{"file":"a","line":"1"}`, false},
		{`{"file":"a","line":1,"run":{"version":"x"}}`, false},
		{`{"file":"a","line":1,"extra":true}`, false},
		{`{"file":"a","at":"yesterday"}`, false},
		{`{"file":"a","line":1`, false}, // torn
		{`{"file":"a","line":1}x`, false},
		{`{"file":"a` + "\xff" + `","line":1}`, false}, // invalid UTF-8: json replaces it
		{`{"file":"a` + "\t" + `","line":1}`, false},   // a raw control character: json refuses it
		{`[1,2]`, false},
		{``, false},
	}
	for _, tt := range lines {
		var fast Entry
		var purpose Purpose
		took := decodeFlat([]byte(tt.line), &fast, &purpose)
		if took != tt.fast {
			t.Errorf("%q: fast path %v, want %v", tt.line, took, tt.fast)
		}
		var got, want wireLine
		gerr := decodeLine([]byte(tt.line), &got)
		werr := json.Unmarshal([]byte(tt.line), &want)
		if (gerr == nil) != (werr == nil) {
			t.Errorf("%q: error %v, encoding/json %v", tt.line, gerr, werr)
			continue
		}
		if werr == nil && !sameLine(got, want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.line, got, want)
		}
	}
}

func sameLine(a, b wireLine) bool {
	if !a.At.Equal(b.At) {
		return false
	}
	a.At, b.At = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

// The writer's own lines all take the fast path: that is its point.
func TestWriterLinesDecodeFast(t *testing.T) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	for _, e := range []Entry{
		{File: "/tmp/u.ndjson", Line: 7, Email: "a.b+c@example.com", Status: Failed, Code: "DUPLICATED_USER", Reason: "The user already exists.", At: time.Now(), Record: 7},
		{Status: Submitted, Chunk: 3, JobID: "job_abc", At: time.Now()},
	} {
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var e Entry
		var p Purpose
		if !decodeFlat([]byte(line), &e, &p) {
			t.Errorf("%s: not decoded by the fast path", line)
		}
	}
}

func FuzzDecodeLine(f *testing.F) {
	f.Add(`{"file":"users.csv","line":12,"email":"a@example.com","status":"created","at":"2026-11-25T10:00:00Z","record":12}`)
	f.Add(`{"status":"resumed","at":"2026-12-06T01:28:18Z","for":"retry"}`)
	f.Add(`{"file":"a","line":1,"line":2}`)
	f.Fuzz(func(t *testing.T, line string) {
		var got, want wireLine
		gerr := decodeLine([]byte(line), &got)
		werr := json.Unmarshal([]byte(line), &want)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("%q: error %v, encoding/json %v", line, gerr, werr)
		}
		if werr == nil && !sameLine(got, want) {
			t.Fatalf("%q:\n got %+v\nwant %+v", line, got, want)
		}
	})
}
