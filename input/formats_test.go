package input

import (
	"regexp"
	"strings"
	"testing"
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
		{"bcrypt", regexp.MustCompile(`^\$2[ab]\$\d{2}\$[./A-Za-z0-9]{53}$`), isBcrypt,
			[]string{bc, strings.Replace(bc, "$2b", "$2a", 1), strings.Replace(bc, "$2b", "$2y", 1), bc + "a", bc[:59], strings.Replace(bc, "10", "1x", 1),
				strings.Replace(bc, "aZ", "a-", 1), strings.Replace(bc, "aZ", "é", 1), "$2b$10$", ""}},
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
	bcrypt := regexp.MustCompile(`^\$2[ab]\$\d{2}\$[./A-Za-z0-9]{53}$`)
	f.Add("+12125550001")
	f.Add("$2b$10$" + strings.Repeat("a", 53))
	f.Fuzz(func(t *testing.T, s string) {
		if isE164(s) != e164.MatchString(s) || isBcrypt(s) != bcrypt.MatchString(s) {
			t.Fatalf("%q", s)
		}
	})
}
