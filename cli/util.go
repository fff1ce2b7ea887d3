package cli

import (
	"encoding/json"
	"fmt"
	"io"
)

// readSmall reads at most limit bytes: secret and map files are small, and a
// wrong path must not make a0bulk read a huge file into memory.
func readSmall(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
