package hashes

import (
	"strings"
	"testing"
)

// hashOf is a valid bcrypt hash at cost 10 that names i.
func hashOf(i int) string { return bcryptAt(10, i) }

func bcryptAt(cost, i int) string {
	h := strings.Repeat("0", 53) + itoa(i)
	return "$2b$" + itoa2(cost) + "$" + h[len(h)-53:]
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	s := ""
	for ; i > 0; i /= 10 {
		s = string(rune('0'+i%10)) + s
	}
	return s
}

func itoa2(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }

func TestParseLine(t *testing.T) {
	h := hashOf(1)
	for _, tc := range []struct {
		name, in string
		want     Line
		err      string
	}{
		{name: "alt_id wins over _id",
			in:   `{"_id":{"$oid":"5dea9f9c82dd7c0e76e4ec93"},"email":"A@example.com","passwordHash":"` + h + `","alt_id":"euclid","connection":"Username-Password-Authentication"}`,
			want: Line{UserID: "euclid", Email: "A@example.com", Hash: h}},
		{name: "_id.$oid without alt_id",
			in:   `{"_id":{"$oid":"5dea9f9c82dd7c0e76e4ec93"},"email":"a@example.com","passwordHash":"` + h + `"}`,
			want: Line{UserID: "5dea9f9c82dd7c0e76e4ec93", Email: "a@example.com", Hash: h}},
		{name: "_id as a plain string",
			in:   `{"_id":"abc","passwordHash":"` + h + `"}`,
			want: Line{UserID: "abc", Hash: h}},
		{name: "email only in identifiers",
			in:   `{"_id":{"$oid":"1"},"passwordHash":"` + h + `","identifiers":[{"type":"username","value":"bob"},{"type":"email","value":"b@example.com","verified":true}]}`,
			want: Line{UserID: "1", Email: "b@example.com", Hash: h}},
		{name: "root email wins over identifiers",
			in:   `{"_id":{"$oid":"1"},"email":"root@example.com","passwordHash":"` + h + `","identifiers":[{"type":"email","value":"b@example.com"}]}`,
			want: Line{UserID: "1", Email: "root@example.com", Hash: h}},
		{name: "no email at all",
			in:   `{"_id":{"$oid":"1"},"passwordHash":"` + h + `"}`,
			want: Line{UserID: "1", Hash: h}},
		{name: "alt_id is the id the import schema takes, as it is (the tenant's is auth0|auth0|euclid)",
			in:   `{"alt_id":"auth0|euclid","passwordHash":"` + h + `"}`,
			want: Line{UserID: "auth0|euclid", Hash: h}},
		{name: "the whole export line of the support article",
			in:   `{"_id":{"$oid":"5dea9f9c82dd7c0e76e4ec93"},"email_verified":false,"email":"user@example.com","passwordHash":"` + h + `","password_set_date":{"$date":"2019-12-06T18:36:12.412Z"},"tenant":"t","connection":"Username-Password-Authentication","_tmp_is_unique":true,"identifiers":[{"type":"email","value":"user@example.com","verified":false}],"alt_id":"euclid"}`,
			want: Line{UserID: "euclid", Email: "user@example.com", Hash: h}},

		{name: "not JSON", in: `{"_id":`, err: "not valid JSON"},
		{name: "not an object", in: `["a"]`, err: "not a JSON object"},
		{name: "no hash", in: `{"_id":{"$oid":"1"},"email":"a@example.com"}`, err: "no passwordHash"},
		{name: "empty hash", in: `{"_id":{"$oid":"1"},"passwordHash":""}`, err: "no passwordHash"},
		{name: "no id", in: `{"email":"a@example.com","passwordHash":"` + h + `"}`, err: "no user id (neither alt_id nor _id.$oid)"},
		{name: "empty $oid", in: `{"_id":{"$oid":""},"passwordHash":"` + h + `"}`, err: "no user id (neither alt_id nor _id.$oid)"},
		{name: "_id of another type", in: `{"_id":7,"passwordHash":"` + h + `"}`, err: `_id is not a string or an {"$oid"} object`},
		{name: "hash of another type", in: `{"_id":"1","passwordHash":7}`, err: "passwordHash is not a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseLine([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), h) {
					t.Fatalf("the error quotes the hash: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
