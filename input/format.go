package input

import (
	"bufio"
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
)

// Format is an input format.
type Format string

const (
	FormatCSV    Format = "csv"
	FormatJSON   Format = "json"
	FormatNDJSON Format = "ndjson"
	// FormatAuto asks NewReader to sniff the content: used for stdin, which
	// has no extension, and for .gz files. Sniffing peeks at the first
	// non-space byte only.
	FormatAuto Format = ""
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case FormatCSV, FormatJSON, FormatNDJSON:
		return f, nil
	case "jsonl":
		return FormatNDJSON, nil
	}
	return "", fmt.Errorf("%w %q (want csv, json or ndjson)", ErrUnknownFormat, s)
}

// DetectFormat picks the format of path: the explicit --format value when
// given, else the extension (.csv, .json, .ndjson, .jsonl). Stdin ("-") has no
// extension and yields FormatAuto, which NewReader resolves by sniffing. So
// does a .gz file: the name inside is no guide (Auth0 names its NDJSON
// export .json.gz), its content is. Any other path without a known
// extension is an error wrapping ErrUnknownFormat (a usage error: the user
// must say --format).
func DetectFormat(path string, explicit string) (Format, error) {
	if explicit != "" {
		return ParseFormat(explicit)
	}
	if path == "-" || strings.EqualFold(filepath.Ext(path), ".gz") {
		return FormatAuto, nil
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return FormatCSV, nil
	case ".json":
		return FormatJSON, nil
	case ".ndjson", ".jsonl":
		return FormatNDJSON, nil
	}
	return "", fmt.Errorf("%s: %w: extension %q is not .csv, .json, .ndjson, .jsonl or .gz; use --format", path, ErrUnknownFormat, filepath.Ext(path))
}

// Sniff is the format FormatAuto reads br as (see sniff), without
// consuming it: a caller that copies a pipe names the copy by it. A gzip
// stream is sniffed by its decompressed start.
func Sniff(br *bufio.Reader) Format {
	if IsGzip(br) {
		return sniffGzip(br)
	}
	return sniff(br)
}

// sniff decides the format from the first non-space byte: '[' is a JSON
// array, '{' NDJSON, anything else CSV. It peeks without consuming input and
// looks at most at the first 64 KiB (leading whitespace beyond that is
// implausible and treated as CSV).
func sniff(br *bufio.Reader) Format {
	for n := 1; n <= 64<<10; n *= 2 {
		b, err := br.Peek(n)
		// A UTF-8 BOM (PowerShell and Excel write one) is not content.
		if len(b) < len(utf8BOM) && bytes.HasPrefix(utf8BOM, b) && err == nil {
			continue
		}
		if t := bytes.TrimLeft(bytes.TrimPrefix(b, utf8BOM), " \t\r\n"); len(t) > 0 {
			switch t[0] {
			case '[':
				return FormatJSON
			case '{':
				return FormatNDJSON
			}
			return FormatCSV
		}
		if err != nil {
			break
		}
	}
	return FormatCSV
}
