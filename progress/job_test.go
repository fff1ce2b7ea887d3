package progress

import (
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

func ptr(n int) *int { return &n }

// Off a terminal `jobs wait` writes a line when the job's status or
// percentage changes, not at every read.
func TestJobPlainLinesOnChange(t *testing.T) {
	clk := clock.NewFake(t0)
	var out syncBuffer
	j := WatchJob(&out, JobOptions{Clock: clk})
	j.Show(JobState{ID: "job_1", Status: "pending"})
	clk.Advance(time.Second)
	j.Show(JobState{ID: "job_1", Status: "pending"})
	clk.Advance(time.Second)
	j.Show(JobState{ID: "job_1", Status: "processing", Percent: ptr(43), Left: ptr(125)})
	j.Stop()
	want := "a0bulk jobs wait: job_1 pending · waited 0s\n" +
		"a0bulk jobs wait: job_1 processing 43% · about 2m05s left · waited 2s\n"
	if got := out.String(); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

// On a terminal the job's line is redrawn in place and fits 40 columns.
func TestJobLineFits(t *testing.T) {
	clk := clock.NewFake(t0)
	var out syncBuffer
	j := WatchJob(&out, JobOptions{Clock: clk, Bar: true, Width: func() int { return 40 }})
	j.Show(JobState{ID: "job_6nNLiwFZksN0YmRR", Status: "processing", Percent: ptr(43), Left: ptr(125)})
	j.Stop()
	got := out.String()
	if got != "\rjob_6nNLiwFZksN0YmRR processing 43%\x1b[K\r\x1b[K" {
		t.Fatalf("got %q", got)
	}
	for _, d := range strings.Split(got, "\r") {
		if width(strings.TrimSuffix(d, clearToEOL)) > 39 {
			t.Errorf("draw %q is too wide", d)
		}
	}
}
