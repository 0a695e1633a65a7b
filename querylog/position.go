package querylog

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// headLen is how much of a file's beginning identifies it beside its
// inode: a file that reuses a deleted one's inode starts differently (each
// line starts with its time stamp).
const headLen = 1024

// Position is where reading a query log stands: which file, and how far
// into it. It is what the agent saves, so that a restart resumes exactly
// where the last checkpoint stopped even if the file was rotated since.
type Position struct {
	// Dev and Inode identify the file; Head is the SHA-256 of its first
	// HeadLen bytes (HeadLen < 1024 while the file was shorter), which
	// tells it from a later file that got the same inode.
	Dev     uint64 `json:"dev"`
	Inode   uint64 `json:"inode"`
	HeadLen int    `json:"head_len"`
	Head    string `json:"head"`
	// Offset is the byte after the last line read; a line is read only
	// when its line break is there.
	Offset int64 `json:"offset"`
	// ModTime is the file's modification time (Unix nanoseconds) when the
	// position was taken: files written after it are the ones to read
	// next if this one has been rotated away.
	ModTime int64 `json:"mod_time"`
	// Path is the name the file had, for people reading the state.
	Path string `json:"path,omitempty"`
}

// IsZero reports whether p is no position: read the log from its start.
func (p Position) IsZero() bool { return p.Inode == 0 && p.Head == "" && p.Offset == 0 }

func (p Position) String() string {
	return fmt.Sprintf("%s (inode %d) at byte %d", p.Path, p.Inode, p.Offset)
}

// headSum hashes the first n bytes of f.
func headSum(f io.ReaderAt, n int) (string, error) {
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, 0); err != nil && err != io.EOF {
		return "", err
	}
	s := sha256.Sum256(buf)
	return hex.EncodeToString(s[:]), nil
}

// fileID is a file's identity on its file system.
type fileID struct{ dev, inode uint64 }

func idOf(fi os.FileInfo) fileID {
	dev, ino := sysID(fi)
	return fileID{dev, ino}
}

// sameFile reports whether the open file f, whose info is fi, is the file p
// was taken in.
func sameFile(f *os.File, fi os.FileInfo, p Position) bool {
	id := idOf(fi)
	if id.inode != 0 && (id.dev != p.Dev || id.inode != p.Inode) {
		return false
	}
	if p.HeadLen == 0 {
		return id.inode != 0
	}
	if fi.Size() < int64(p.HeadLen) {
		return false
	}
	sum, err := headSum(f, p.HeadLen)
	return err == nil && sum == p.Head
}
