package management

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

// DecodeJobErrors decodes the body of GET /api/v2/jobs/{id}/errors, a union:
//   - 204, or a 200 whose body is empty, whitespace or null: JobErrorsNone;
//   - a JSON array of per-user errors: JobErrorsUsers; an EMPTY array is
//     reported as JobErrorsNone, so that "nothing failed" has one form;
//   - a JSON object (the job itself, failed): JobErrorsFailure.
func DecodeJobErrors(status int, body []byte) (*JobErrors, error) {
	b := bytes.TrimSpace(body)
	if status == http.StatusNoContent || len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return &JobErrors{Kind: JobErrorsNone}, nil
	}
	switch b[0] {
	case '[':
		var users []UserImportError
		if err := json.Unmarshal(b, &users); err != nil {
			return nil, fmt.Errorf("decoding per-user job errors: %w", err)
		}
		if len(users) == 0 {
			return &JobErrors{Kind: JobErrorsNone}, nil
		}
		return &JobErrors{Kind: JobErrorsUsers, Users: users}, nil
	case '{':
		var job Job
		if err := json.Unmarshal(b, &job); err != nil {
			return nil, fmt.Errorf("decoding job failure: %w", err)
		}
		return &JobErrors{Kind: JobErrorsFailure, Failure: &job}, nil
	}
	return nil, fmt.Errorf("decoding job errors: unexpected body starting with %q", b[:1])
}

// UnmarshalJSON keeps email and user_id typed and the rest of the echoed
// user (masked values included) in Rest, for display.
func (u *ImportErrorUser) UnmarshalJSON(data []byte) error {
	var all map[string]any
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	*u = ImportErrorUser{}
	if v, ok := all["email"].(string); ok {
		u.Email = v
		delete(all, "email")
	}
	if v, ok := all["user_id"].(string); ok {
		u.UserID = v
		delete(all, "user_id")
	}
	if len(all) > 0 {
		u.Rest = all
	}
	return nil
}
