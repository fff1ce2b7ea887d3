package input

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// readGz reads every record of data (compressed or not) as file "users.gz".
func readGz(t *testing.T, data []byte, f Format) ([]Record, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), "users.gz", f, Options{})
	if err != nil {
		return nil, err
	}
	var recs []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			return recs, err
		}
		recs = append(recs, rec)
	}
}

// Gzip is read transparently, whatever format is inside and whatever the
// caller said the format is; records keep the file's name and the line of
// the decompressed stream.
func TestGzipIsReadTransparently(t *testing.T) {
	tests := []struct {
		name    string
		content string
		format  Format
		lines   []int
	}{
		{"csv sniffed", "\xEF\xBB\xBFemail,name\na@x.io,\"two\nlines\"\nb@x.io,B\n", FormatAuto, []int{2, 4}},
		{"csv by extension", "email\r\na@x.io\r\n\r\nb@x.io\r\n", FormatCSV, []int{2, 4}},
		{"ndjson sniffed", "\n{\"email\":\"a@x.io\"}\n{\"email\":\"b@x.io\"}\n", FormatAuto, []int{2, 3}},
		{"json array sniffed", "[\n {\"email\":\"a@x.io\"},\n\n {\"email\":\"b@x.io\"}\n]\n", FormatAuto, []int{2, 4}},
		{"semicolons", "email;name\na@x.io;A\nb@x.io;\"B; b\"\n", FormatAuto, []int{2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := readGz(t, gz(t, tt.content), tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != len(tt.lines) {
				t.Fatalf("%d records, want %d", len(recs), len(tt.lines))
			}
			for i, rec := range recs {
				if !rec.Valid() || rec.File != "users.gz" || rec.Line != tt.lines[i] || rec.User.Email == "" {
					t.Errorf("record %d: %s:%d %q errors %q; want line %d", i, rec.File, rec.Line, rec.User.Email, errs(rec), tt.lines[i])
				}
			}
		})
	}
}

// Concatenated gzip members (what `cat a.gz b.gz` gives) are one stream.
func TestGzipMembersConcatenate(t *testing.T) {
	data := append(gz(t, "{\"email\":\"a@x.io\"}\n"), gz(t, "{\"email\":\"b@x.io\"}\n")...)
	recs, err := readGz(t, data, FormatNDJSON)
	if err != nil || len(recs) != 2 || recs[1].Line != 2 {
		t.Fatalf("records %+v, err %v", recs, err)
	}
}

// A truncated or corrupt download says so, at the line it broke, and is
// not taken for a truncated JSON array or CSV record.
func TestGzipCorruptOrTruncated(t *testing.T) {
	var nd, csv strings.Builder
	csv.WriteString("email\n")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&nd, "{\"email\":\"user%d@x.io\"}\n", i*7919%10007)
		fmt.Fprintf(&csv, "user%d@x.io\n", i*7919%10007)
	}
	full := gz(t, nd.String())
	corrupt := bytes.Clone(full)
	corrupt[len(corrupt)-6] ^= 0xff // the CRC-32 trailer
	for name, data := range map[string][]byte{
		"truncated ndjson": full[:len(full)/2],
		"truncated json":   gz(t, "[{\"email\":\"a@x.io\"},\n"+strings.Repeat(" ", 1<<17))[:200],
		"truncated csv":    gz(t, csv.String())[:3000],
		"bad checksum":     corrupt,
	} {
		t.Run(name, func(t *testing.T) {
			recs, err := readGz(t, data, FormatAuto)
			ie := inputErr(t, err)
			var ge *GzipError
			if !errors.As(err, &ge) || ie.File != "users.gz" || !strings.Contains(ie.Reason, "gzip data is corrupt or truncated") {
				t.Fatalf("err %v (gzip error %v)", err, ge)
			}
			if strings.Contains(ie.Reason, "truncated JSON") || strings.Contains(ie.Reason, "reading:") {
				t.Errorf("reason %q does not blame the gzip data", ie.Reason)
			}
			// It broke after the records read so far, at a line of the
			// decompressed stream.
			if ie.Line <= 1 || (name != "truncated json" && ie.Line <= len(recs)) {
				t.Errorf("line %d after %d records", ie.Line, len(recs))
			}
		})
	}
	t.Run("not gzip after the magic", func(t *testing.T) {
		_, err := readGz(t, []byte("\x1f\x8bnot really"), FormatAuto)
		if ie := inputErr(t, err); ie.Line != 1 || !strings.Contains(ie.Reason, "not readable as gzip") {
			t.Fatalf("err %v", err)
		}
	})
}

// Sniff sees through gzip (a piped export is named by what it holds), and
// consumes nothing.
func TestSniffThroughGzip(t *testing.T) {
	for content, want := range map[string]Format{
		"{\"email\":\"a@x.io\"}\n": FormatNDJSON,
		"  [ {\"email\":1} ]":      FormatJSON,
		"email\na@x.io\n":          FormatCSV,
	} {
		data := gz(t, content)
		br := bufio.NewReaderSize(bytes.NewReader(data), 64<<10)
		if got := Sniff(br); got != want || !IsGzip(br) {
			t.Errorf("Sniff(gzip of %q) = %q, want %q", content, got, want)
		}
		if rest, _ := io.ReadAll(br); !bytes.Equal(rest, data) {
			t.Errorf("Sniff consumed input")
		}
	}
}

func TestDetectFormatGz(t *testing.T) {
	for path, want := range map[string]Format{
		"export.json.gz": FormatAuto, // Auth0 names its NDJSON export so: the content decides
		"users.CSV.GZ":   FormatAuto,
		"users.gz":       FormatAuto,
		"users.csv":      FormatCSV,
	} {
		got, err := DetectFormat(path, "")
		if err != nil || got != want {
			t.Errorf("DetectFormat(%q) = %q, %v; want %q", path, got, err, want)
		}
	}
	if got, _ := DetectFormat("users.gz", "ndjson"); got != FormatNDJSON {
		t.Errorf("--format is not honoured for .gz: %q", got)
	}
}
