package input

// Hand-written equivalents of the schema's patterns: the validator runs them
// on every record, and regexp's general matcher was a tenth of the
// pipeline's time. formats_test.go checks them against the regexps.

// isE164 matches ^\+[1-9]\d{1,14}$.
func isE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9' {
		return false
	}
	return allDigits(s[2:])
}

// isMFAPhone matches ^\+[0-9]{1,15}$.
func isMFAPhone(s string) bool {
	return len(s) >= 2 && len(s) <= 16 && s[0] == '+' && allDigits(s[1:])
}

// isBcrypt matches ^\$2[ab]\$\d{2}\$[./A-Za-z0-9]{53}$.
func isBcrypt(s string) bool {
	if len(s) != 60 || s[0] != '$' || s[1] != '2' || (s[2] != 'a' && s[2] != 'b') || s[3] != '$' || s[6] != '$' || !allDigits(s[4:6]) {
		return false
	}
	for i := 7; i < len(s); i++ {
		if !bcryptAlphabet[s[i]] {
			return false
		}
	}
	return true
}

var bcryptAlphabet = func() (t [256]bool) {
	for _, c := range []byte("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") {
		t[c] = true
	}
	return t
}()

// isBase32 matches ^[A-Z2-7]+$.
func isBase32(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
