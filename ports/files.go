package ports

import (
	"context"
	"io"
	"time"
)

// FileInfo describes a stored file. ETag is the hex SHA-256 of the content, so equal
// content has equal ETags wherever and whenever it was stored.
type FileInfo struct {
	Key     string
	Size    int64
	ModTime time.Time
	ETag    string
}

// FileStore keeps files (photos, labels) by key ("photos/<uuid>/web.jpg"). Keys are
// relative slash paths without "..": no empty, "." or ".." segment, no backslash, and
// no segment starting with a dot; any other key is EINVALID.
type FileStore interface {
	// Put stores the content of r under key, atomically (readers never see a
	// half-written file), replacing any file there. When r fails or ctx ends, the
	// previous file, if any, is left as it was.
	Put(ctx context.Context, key string, r io.Reader) (FileInfo, error)
	// Open returns the file for reading; ENOTFOUND when missing. The caller closes it.
	Open(ctx context.Context, key string) (io.ReadSeekCloser, FileInfo, error)
	// Delete removes a file; deleting a missing file is not an error.
	Delete(ctx context.Context, key string) error
}
