package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// The headers burnwatch signs a request with.
const (
	// SignatureHeader carries "sha256=" and the hex of HMAC-SHA256 over
	// the exact body, keyed with the shared secret.
	SignatureHeader = "X-Burnwatch-Signature"
	// TimestampHeader carries the body's sent_at as Unix seconds.
	TimestampHeader = "X-Burnwatch-Timestamp"
)

const signaturePrefix = "sha256="

// Sign returns the value of the signature header for body: "sha256="
// and the hex of HMAC-SHA256(secret, body).
func Sign(secret, body []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(secret, body))
}

// Verify reports whether header, the value of X-Burnwatch-Signature, signs
// body with secret: the secret as burnwatch uses it, the file's content
// trimmed of white space. It compares in constant time, and an empty
// secret verifies nothing. Pass the body exactly as received, before any
// parsing.
func Verify(secret, body []byte, header string) bool {
	if len(secret) == 0 {
		return false
	}
	h, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok {
		return false
	}
	got, err := hex.DecodeString(h)
	if err != nil {
		return false
	}
	return hmac.Equal(got, mac(secret, body))
}

func mac(secret, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return m.Sum(nil)
}
