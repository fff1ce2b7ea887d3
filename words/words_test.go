package words

import "testing"

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		n    int
		noun string
		want string
	}{
		{0, "record", "0 records"},
		{1, "record", "1 record"},
		{2, "record", "2 records"},
		{1, "import job", "1 import job"},
		{3, "import job", "3 import jobs"},
		{2, "entry", "2 entries"},
		{2, "day", "2 days"},
		{2, "match", "2 matches"},
		{2, "bus", "2 buses"},
		{1, "retry", "1 retry"},
		{5, "retry", "5 retries"},
	} {
		if got := Count(tc.n, tc.noun); got != tc.want {
			t.Errorf("Count(%d, %q) = %q, want %q", tc.n, tc.noun, got, tc.want)
		}
	}
}

func TestTimes(t *testing.T) {
	for n, want := range map[int]string{0: "0 times", 1: "once", 2: "twice", 3: "3 times"} {
		if got := Times(n); got != want {
			t.Errorf("Times(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestA(t *testing.T) {
	for word, want := range map[string]string{
		"import": "an import", "create": "a create", "sync": "a sync", "verify": "a verify", "email": "an email",
	} {
		if got := A(word); got != want {
			t.Errorf("A(%q) = %q, want %q", word, got, want)
		}
	}
}

func TestAgree(t *testing.T) {
	if got := Count(1, "record") + " " + Agree(1, "is", "are"); got != "1 record is" {
		t.Error(got)
	}
	if got := Count(2, "record") + " " + Agree(2, "is", "are"); got != "2 records are" {
		t.Error(got)
	}
}
