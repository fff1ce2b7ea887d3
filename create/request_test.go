package create

import (
	"testing"

	"github.com/a0bulk/a0bulk/input"
)

func TestMissingPassword(t *testing.T) {
	const want = "password: required to create a user on a database connection (give a password column, use --random-password, or import password hashes with `a0bulk import`)"
	none := &input.Record{User: input.User{Email: "a@x.com"}}
	fe := MissingPassword(none, false, false)
	if fe == nil || fe.Field != "password" || fe.Error() != want {
		t.Fatalf("MissingPassword = %v, want %q", fe, want)
	}
	for _, tc := range []struct {
		name                 string
		rec                  *input.Record
		random, passwordless bool
	}{
		{"own password", &input.Record{Password: "Secret-123"}, false, false},
		{"random password", none, true, false},
		{"passwordless connection", none, false, true},
	} {
		if fe := MissingPassword(tc.rec, tc.random, tc.passwordless); fe != nil {
			t.Errorf("%s: MissingPassword = %v, want nil", tc.name, fe)
		}
	}
	// The Runner reports the same text.
	r := &Runner{}
	if got := r.invalidReason(none); got != want {
		t.Fatalf("invalidReason = %q, want %q", got, want)
	}
}
