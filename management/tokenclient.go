package management

import "strings"

// TokenClientID returns the client a Management API token was issued to,
// read from its JWT payload (decoded, never verified, and never logged): the
// azp claim, else a client-credentials sub ("CLIENTID@clients"). It returns
// "" for an opaque token or one that names no client: a report then records
// no client for the run, and nothing is compared for it.
func TokenClientID(token string) string {
	claims, err := jwtClaims(strings.TrimSpace(token))
	if err != nil {
		return ""
	}
	if azp, _ := claims["azp"].(string); azp != "" {
		return azp
	}
	sub, _ := claims["sub"].(string)
	if id, ok := strings.CutSuffix(sub, "@clients"); ok && id != "" {
		return id
	}
	return ""
}
