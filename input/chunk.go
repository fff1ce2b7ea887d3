package input

// Chunk is one import file: a JSON array of users no larger than the chunk
// limit, plus enough about each record to settle it from the job's outcome
// and to journal it (never the password hash, which stays in Body only).
type Chunk struct {
	// Seq numbers chunks within a run, from 1; a resumed run continues after
	// the highest number in its report.
	Seq     int
	Records []ChunkRecord
	// Body is the serialised JSON array sent as the `users` file part.
	Body []byte
}

// ChunkRecord identifies one record of a chunk.
type ChunkRecord struct {
	File    string
	Line    int
	Ordinal int
	Email   string
	UserID  string
}
