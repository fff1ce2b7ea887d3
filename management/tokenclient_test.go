package management

import (
	"encoding/base64"
	"testing"
)

// jwtWith builds an unsigned token with payload (signature is never checked).
func jwtWith(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc([]byte(payload)) + ".c2ln"
}

func TestTokenClientID(t *testing.T) {
	for _, tc := range []struct {
		name, token, want string
	}{
		{"azp", jwtWith(`{"azp":"abc","sub":"other@clients"}`), "abc"},
		{"client-credentials sub", jwtWith(`{"sub":"abc@clients"}`), "abc"},
		{"a user's sub names no client", jwtWith(`{"sub":"auth0|123"}`), ""},
		{"empty azp, no sub", jwtWith(`{"azp":""}`), ""},
		{"bare @clients", jwtWith(`{"sub":"@clients"}`), ""},
		{"azp not a string", jwtWith(`{"azp":7}`), ""},
		{"opaque", "not-a-jwt", ""},
		{"payload not base64", "a.%%%.c", ""},
		{"payload not JSON", "a." + base64.RawURLEncoding.EncodeToString([]byte("nope")) + ".c", ""},
		{"spaces around", " " + jwtWith(`{"azp":"xy"}`) + "\n", "xy"},
	} {
		if got := TokenClientID(tc.token); got != tc.want {
			t.Errorf("%s: TokenClientID = %q, want %q", tc.name, got, tc.want)
		}
	}
}
