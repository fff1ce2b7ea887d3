package management

import (
	"net/http"
	"testing"
	"time"
)

func TestServerClockKeepsTheLatestDate(t *testing.T) {
	var c serverClock
	if _, ok := c.get(); ok {
		t.Fatal("a clock that saw nothing claims a time")
	}
	later := time.Date(2026, 11, 25, 10, 0, 5, 0, time.UTC)
	for _, d := range []string{later.Format(http.TimeFormat), "not a date", later.Add(-time.Hour).Format(http.TimeFormat)} {
		c.saw(http.Header{"Date": {d}})
	}
	if got, ok := c.get(); !ok || !got.Equal(later) {
		t.Fatalf("server time = %v %v, want %v (the latest, garbage and older dates ignored)", got, ok, later)
	}
}
