package management

import (
	"testing"
)

func TestDecodeJobErrors(t *testing.T) {
	recordedUsers := `[{"user":{"email":"chuck630@example.com","email_verified":true},"errors":[{"code":"DUPLICATED_USER","message":"The user already exist and upsert parameter is false"}]}]`
	failure := `{"status":"failed","type":"users_import","created_at":"2023-01-25T17:48:16.543Z","id":"job_1","connection_id":"con_ftSSLHb0O7rcUGmF","status_details":"Job timed out","extra":1}`
	tests := []struct {
		name   string
		status int
		body   string
		want   JobErrorsKind
		err    bool
	}{
		{"204", 204, "", JobErrorsNone, false},
		{"204 with stray body", 204, "garbage", JobErrorsNone, false},
		{"empty 200", 200, "", JobErrorsNone, false},
		{"whitespace 200", 200, " \r\n\t ", JobErrorsNone, false},
		{"null", 200, "null", JobErrorsNone, false},
		{"empty array is none", 200, " [] ", JobErrorsNone, false},
		{"recorded per-user errors", 200, recordedUsers, JobErrorsUsers, false},
		{"failure object", 200, failure, JobErrorsFailure, false},
		{"not JSON", 200, "oops", 0, true},
		{"broken array", 200, "[{", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeJobErrors(tt.status, []byte(tt.body))
			if tt.err {
				if err == nil {
					t.Fatalf("got %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != tt.want {
				t.Fatalf("kind = %v, want %v", got.Kind, tt.want)
			}
			if (got.Kind == JobErrorsUsers) != (len(got.Users) > 0) || (got.Kind == JobErrorsFailure) != (got.Failure != nil) {
				t.Fatalf("members do not match the kind: %+v", got)
			}
		})
	}

	got, _ := DecodeJobErrors(200, []byte(recordedUsers))
	u := got.Users[0]
	if u.User.Email != "chuck630@example.com" || u.User.Rest["email_verified"] != true || len(u.Errors) != 1 ||
		u.Errors[0].Code != "DUPLICATED_USER" || u.Errors[0].Path != "" {
		t.Fatalf("decoded user error = %+v", u)
	}
	got, _ = DecodeJobErrors(200, []byte(failure))
	if got.Failure.Status != JobFailed || got.Failure.StatusDetails != "Job timed out" || got.Failure.ID != "job_1" {
		t.Fatalf("failure = %+v", got.Failure)
	}
}

func TestImportErrorUserKeepsUserIDAndRest(t *testing.T) {
	got, err := DecodeJobErrors(200, []byte(`[{"user":{"email":"a@b.c","user_id":"42","password_hash":"*****"},"errors":[{"code":"FORMAT","message":"m","path":"email"}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	u := got.Users[0]
	if u.User.UserID != "42" || u.User.Rest["password_hash"] != "*****" || u.Errors[0].Path != "email" {
		t.Fatalf("got %+v", u)
	}
	if _, ok := u.User.Rest["email"]; ok {
		t.Fatal("email kept in Rest as well")
	}
}
