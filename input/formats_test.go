package input

import (
	"regexp"
	"strings"
	"testing"
)

// Auth0's password_hash pattern, as its per-user PATTERN error quotes it,
// and the bcrypt shape custom_password_hash takes ($2a$, $2b$, $2y$).
const (
	auth0PasswordHash = `^\$2[ab]?\$10+\$[./A-Za-z0-9]{53}$`
	customBcrypt      = `^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$`
)

// The hand-written checks must accept exactly what the schema's patterns do.
func TestFormatsMatchPatterns(t *testing.T) {
	bc := "$2b$10$" + strings.Repeat("aZ./9", 10) + "abc"
	checks := []struct {
		name string
		re   *regexp.Regexp
		f    func(string) bool
		in   []string
	}{
		{"e164", regexp.MustCompile(`^\+[1-9]\d{1,14}$`), isE164,
			[]string{"", "+", "+1", "+12", "+0123", "+123456789012345", "+1234567890123456", "12125550001", "+1212555000a", "+١٢٣", "+1 212"}},
		{"mfa phone", regexp.MustCompile(`^\+[0-9]{1,15}$`), isMFAPhone,
			[]string{"", "+", "+0", "+012345678901234", "+0123456789012345", "+1-2"}},
		{"password_hash", regexp.MustCompile(auth0PasswordHash), IsPasswordHash,
			[]string{bc, strings.Replace(bc, "$2b", "$2a", 1), strings.Replace(bc, "$2b", "$2y", 1), strings.Replace(bc, "$2b", "$2", 1), bc + "a", bc[:59], strings.Replace(bc, "10", "1x", 1),
				strings.Replace(bc, "$10$", "$12$", 1), strings.Replace(bc, "$10$", "$100$", 1), strings.Replace(bc, "$10$", "$1$", 1), strings.Replace(bc, "$10$", "$01$", 1),
				strings.Replace(bc, "aZ", "a-", 1), strings.Replace(bc, "aZ", "é", 1), "$2b$10$", "$2b$10", "$2b$1", "$2", ""}},
		{"custom bcrypt", regexp.MustCompile(customBcrypt), func(s string) bool { _, ok := BcryptCost(s); return ok },
			[]string{bc, strings.Replace(bc, "$2b", "$2a", 1), strings.Replace(bc, "$2b", "$2y", 1), strings.Replace(bc, "$2b", "$2x", 1), strings.Replace(bc, "$10$", "$12$", 1),
				strings.Replace(bc, "$10$", "$100$", 1), bc + "a", bc[:59], "$2b$10$", ""}},
		{"base32", regexp.MustCompile(`^[A-Z2-7]+$`), isBase32,
			[]string{"", "A", "ABC234567", "abc", "A1", "A8", "A=", "É"}},
	}
	for _, c := range checks {
		for _, in := range c.in {
			if got, want := c.f(in), c.re.MatchString(in); got != want {
				t.Errorf("%s(%q) = %v, pattern says %v", c.name, in, got, want)
			}
		}
	}
}

func FuzzFormatsMatchPatterns(f *testing.F) {
	e164 := regexp.MustCompile(`^\+[1-9]\d{1,14}$`)
	bcrypt := regexp.MustCompile(auth0PasswordHash)
	custom := regexp.MustCompile(customBcrypt)
	f.Add("+12125550001")
	f.Add("$2b$10$" + strings.Repeat("a", 53))
	f.Add("$2$100$" + strings.Repeat("a", 53))
	f.Fuzz(func(t *testing.T, s string) {
		_, isCustom := BcryptCost(s)
		if isE164(s) != e164.MatchString(s) || IsPasswordHash(s) != bcrypt.MatchString(s) || isCustom != custom.MatchString(s) {
			t.Fatalf("%q", s)
		}
	})
}
