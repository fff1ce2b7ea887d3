package sandbox

import (
	"encoding/json"
	"strings"
	"testing"
)

const goodBcrypt = "$2b$10$C9zdnFdH8rJjDGjMcdLPSufPUqK6Wmwd.Wx3kD8nR3IW9zhe5T8Z2"

func TestValidateImportUser(t *testing.T) {
	tests := []struct {
		name, user string
		code, path string // "" code: valid
	}{
		{"minimal", `{"email":"a@example.com"}`, "", ""},
		{"full", `{"email":"a@example.com","email_verified":true,"phone_number":"+12125550001","user_id":"x1","username":"ann","given_name":"A","family_name":"B","name":"A B","nickname":"ab","picture":"https://x/y.png","blocked":false,"password_hash":"` + goodBcrypt + `","app_metadata":{"plan":"pro"},"user_metadata":{"lang":"fr"},"mfa_factors":[{"totp":{"secret":"JBSWY3DPEHPK3PXP"}},{"phone":{"value":"+12125550001"}},{"email":{"value":"m@example.com"}}]}`, "", ""},
		{"scrypt with keylen", `{"email":"a@example.com","custom_password_hash":{"algorithm":"scrypt","hash":{"value":"abc","encoding":"base64"},"salt":{"value":"s"},"keylen":64}}`, "", ""},
		{"not an object", `"a@example.com"`, "INVALID_TYPE", ""},
		{"missing email", `{"name":"x"}`, "OBJECT_REQUIRED", ""},
		{"bad email", `{"email":"nope"}`, "FORMAT", "email"},
		{"email null", `{"email":null}`, "INVALID_TYPE", "email"},
		{"email number", `{"email":5}`, "INVALID_TYPE", "email"},
		{"unknown property", `{"email":"a@example.com","favourite":"x"}`, "NOT_PASSED", "favourite"},
		{"case-different property", `{"Email":"a@example.com"}`, "NOT_PASSED", "Email"},
		{"phone not E.164", `{"email":"a@example.com","phone_number":"212-555-0001"}`, "PATTERN", "phone_number"},
		{"bad bcrypt", `{"email":"a@example.com","password_hash":"$1$abc"}`, "PATTERN", "password_hash"},
		{"both hashes", `{"email":"a@example.com","password_hash":"` + goodBcrypt + `","custom_password_hash":{"algorithm":"md5","hash":{"value":"x"}}}`, "NOT_PASSED", "custom_password_hash"},
		{"reserved app_metadata", `{"email":"a@example.com","app_metadata":{"clientID":"x"}}`, "NOT_PASSED", "app_metadata.clientID"},
		{"scrypt without keylen", `{"email":"a@example.com","custom_password_hash":{"algorithm":"scrypt","hash":{"value":"x"}}}`, "OBJECT_REQUIRED", "custom_password_hash"},
		{"unknown algorithm", `{"email":"a@example.com","custom_password_hash":{"algorithm":"rot13","hash":{"value":"x"}}}`, "ENUM_MISMATCH", "custom_password_hash.algorithm"},
		{"hash missing", `{"email":"a@example.com","custom_password_hash":{"algorithm":"md5"}}`, "OBJECT_REQUIRED", "custom_password_hash"},
		{"bad encoding", `{"email":"a@example.com","custom_password_hash":{"algorithm":"md5","hash":{"value":"x","encoding":"base32"}}}`, "ENUM_MISMATCH", "custom_password_hash.hash.encoding"},
		{"salt without value", `{"email":"a@example.com","custom_password_hash":{"algorithm":"md5","hash":{"value":"x"},"salt":{"position":"prefix"}}}`, "OBJECT_REQUIRED", "custom_password_hash.salt"},
		{"keylen not integer", `{"email":"a@example.com","custom_password_hash":{"algorithm":"scrypt","hash":{"value":"x"},"keylen":1.5}}`, "INVALID_TYPE", "custom_password_hash.keylen"},
		{"unknown hash property", `{"email":"a@example.com","custom_password_hash":{"algorithm":"md5","hash":{"value":"x"},"rounds":3}}`, "NOT_PASSED", "rounds"},
		{"mfa empty", `{"email":"a@example.com","mfa_factors":[]}`, "ARRAY_LENGTH_SHORT", "mfa_factors"},
		{"mfa too many", `{"email":"a@example.com","mfa_factors":[` + strings.Repeat(`{"phone":{"value":"+1212"}},`, 10) + `{"phone":{"value":"+1212"}}]}`, "ARRAY_LENGTH_LONG", "mfa_factors"},
		{"mfa two kinds", `{"email":"a@example.com","mfa_factors":[{"phone":{"value":"+1212"},"email":{"value":"a@example.com"}}]}`, "NOT_PASSED", "mfa_factors[0]"},
		{"mfa none", `{"email":"a@example.com","mfa_factors":[{}]}`, "ANY_OF_MISSING", "mfa_factors[0]"},
		{"mfa totp lower case", `{"email":"a@example.com","mfa_factors":[{"totp":{"secret":"jbswy3dp"}}]}`, "PATTERN", "mfa_factors[0].totp.secret"},
		{"mfa phone", `{"email":"a@example.com","mfa_factors":[{"phone":{"value":"12125550001"}}]}`, "PATTERN", "mfa_factors[0].phone.value"},
		{"mfa email", `{"email":"a@example.com","mfa_factors":[{"email":{"value":"x"}}]}`, "FORMAT", "mfa_factors[0].email.value"},
		{"mfa unknown kind", `{"email":"a@example.com","mfa_factors":[{"sms":{"value":"+1"}}]}`, "NOT_PASSED", "sms"},
		{"blocked as string", `{"email":"a@example.com","blocked":"no"}`, "INVALID_TYPE", "blocked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, _, probs := validateImportUser(json.RawMessage(tt.user))
			if tt.code == "" {
				if len(probs) != 0 || u == nil {
					t.Fatalf("want valid, got %+v", probs)
				}
				return
			}
			if u != nil || len(probs) == 0 {
				t.Fatalf("want %s, got valid", tt.code)
			}
			if probs[0].Code != tt.code || probs[0].Path != tt.path {
				t.Errorf("got %+v, want %s at %q", probs, tt.code, tt.path)
			}
		})
	}
}

func TestMaskSensitive(t *testing.T) {
	in := `{"email":"a@example.com","custom_password_hash":{"algorithm":"hmac","hash":{"value":"H","key":{"value":"K"}},"salt":{"value":"S"}},"mfa_factors":[{"totp":{"secret":"T"}},{"phone":{"value":"+1"}}]}`
	var v any
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(maskSensitive(v))
	want := `{"custom_password_hash":{"algorithm":"hmac","hash":{"key":{"value":"*****"},"value":"*****"},"salt":{"value":"*****"}},"email":"a@example.com","mfa_factors":[{"totp":{"secret":"*****"}},{"phone":{"value":"+1"}}]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	// The original must be untouched (it is not, but masking must copy).
	if !strings.Contains(string(mustJSON(t, v)), `"H"`) {
		t.Error("maskSensitive modified its input")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPasswordIsGood(t *testing.T) {
	tests := []struct {
		pw   string
		good bool
	}{
		{"Abcdef1!", true}, {"abcdefG1", true}, {"abcdefgh", false}, {"Abc1!", false},
		{"ABCDEFG1", false}, {"abcdef1!", true}, {"ABCDEFGH!1", true},
	}
	for _, tt := range tests {
		if got := passwordIsGood(tt.pw); got != tt.good {
			t.Errorf("passwordIsGood(%q) = %v", tt.pw, got)
		}
	}
}
