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

// IsPasswordHash matches the pattern Auth0 checks password_hash against
// (its per-user PATTERN error quotes it): ^\$2[ab]?\$10+\$[./A-Za-z0-9]{53}$,
// bcrypt at 10 rounds only.
func IsPasswordHash(s string) bool {
	i := 2
	if len(s) < 3 || s[0] != '$' || s[1] != '2' {
		return false
	}
	if s[i] == 'a' || s[i] == 'b' {
		i++
	}
	if i+2 >= len(s) || s[i] != '$' || s[i+1] != '1' || s[i+2] != '0' {
		return false
	}
	for i += 3; i < len(s) && s[i] == '0'; i++ {
	}
	if i >= len(s) || s[i] != '$' {
		return false
	}
	return bcryptTail(s[i+1:])
}

// BcryptCost returns the cost of a bcrypt hash in the modular crypt form
// custom_password_hash takes with algorithm bcrypt ($2a$, $2b$ or $2y$,
// two-digit cost, 53 characters of salt and hash: Auth0's "Bulk User
// Import Database Schema and Examples", bcrypt section), and false for
// anything else.
func BcryptCost(s string) (int, bool) {
	if len(s) != 60 || s[0] != '$' || s[1] != '2' || (s[2] != 'a' && s[2] != 'b' && s[2] != 'y') || s[3] != '$' || s[6] != '$' || !allDigits(s[4:6]) {
		return 0, false
	}
	if !bcryptTail(s[7:]) {
		return 0, false
	}
	return int(s[4]-'0')*10 + int(s[5]-'0'), true
}

// bcryptTail matches [./A-Za-z0-9]{53}.
func bcryptTail(s string) bool {
	if len(s) != 53 {
		return false
	}
	for i := 0; i < len(s); i++ {
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
