// Package hashes reads the password-hash export Auth0 support delivers (one
// user per NDJSON line) and joins it with the records of a run, by user id
// or, when asked, by email, in memory bounded by a budget plus about two
// bytes per hash line: the lines are copied to an unlinked temporary file
// and only an on-disk index of their keys (input/keyset) stays in memory.
//
// A hash is a secret: it goes into the user it is joined to, and never
// into an error, a count, a listing or a log.
package hashes

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Line is one user of the password-hash export (auth0-facts.md "The
// password-hash export"):
//
//	{"_id":{"$oid":"5dea…"},"email":…,"email_verified":…,"passwordHash":"$2b$10$…",
//	 "password_set_date":{"$date":…},"tenant":…,"connection":…,
//	 "identifiers":[{"type":"email","value":…,"verified":…}],"alt_id":"euclid"}
type Line struct {
	// Line is where it is in the file, from 1.
	Line int
	// UserID is the user's id without the connection's prefix: alt_id when
	// present, else _id.$oid (the tenant's user id is "auth0|" + UserID).
	UserID string
	// Email is the root email, else the first email identifier ("" when
	// neither is given).
	Email string
	// Hash is passwordHash: a secret.
	Hash string
}

// Prefix is the database connections' user id prefix: an Auth0 user id is
// Prefix + the id the import schema takes (Auth0 adds it on import).
const Prefix = "auth0|"

// wireLine is what a line is decoded into; the fields a0bulk does not use
// (tenant, connection, dates, verified flags) are not decoded.
type wireLine struct {
	ID           json.RawMessage `json:"_id"`
	Email        string          `json:"email"`
	PasswordHash *string         `json:"passwordHash"`
	Identifiers  []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"identifiers"`
	AltID string `json:"alt_id"`
}

// ParseLine reads one line of the export. Its error says what is wrong in
// words that never quote the line (it holds a hash).
func ParseLine(b []byte) (Line, error) {
	var w wireLine
	if err := json.Unmarshal(b, &w); err != nil {
		return Line{}, decodeProblem(err)
	}
	var l Line
	if w.PasswordHash == nil || *w.PasswordHash == "" {
		return l, errors.New("no passwordHash")
	}
	l.Hash = *w.PasswordHash
	switch {
	case w.AltID != "":
		l.UserID = w.AltID
	case len(w.ID) > 0:
		id, err := objectID(w.ID)
		if err != nil {
			return Line{}, err
		}
		l.UserID = id
	}
	if l.UserID == "" {
		return Line{}, errors.New("no user id (neither alt_id nor _id.$oid)")
	}
	l.Email = w.Email
	if l.Email == "" {
		for _, id := range w.Identifiers {
			if id.Type == "email" && id.Value != "" {
				l.Email = id.Value
				break
			}
		}
	}
	return l, nil
}

// objectID reads _id: {"$oid":"…"} as the export writes it, or a plain
// string.
func objectID(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", errors.New("_id is not a string or an {\"$oid\"} object")
		}
		return s, nil
	}
	var o struct {
		OID string `json:"$oid"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return "", errors.New("_id is not a string or an {\"$oid\"} object")
	}
	return o.OID, nil
}

// decodeProblem names a decoding failure by its place or field, never by
// the content it saw.
func decodeProblem(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("not valid JSON (at byte %d)", se.Offset)
	case errors.As(err, &te) && te.Field == "":
		return errors.New("not a JSON object")
	case errors.As(err, &te):
		return fmt.Errorf("%s is not a %s", te.Field, jsonType(te.Type.Kind().String()))
	}
	return errors.New("not valid JSON")
}

func jsonType(kind string) string {
	switch kind {
	case "slice":
		return "list"
	case "struct", "map":
		return "object"
	}
	return kind
}
