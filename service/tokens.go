package service

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Bearer tokens the service reads from files: the events token pushers
// send, and the API's. A token is the file's content, trimmed; an empty
// one is an error, so that an empty file can never mean "no
// authentication".

// EventsTokenFile is where the events token is kept: the config's file, or
// one the service made in its storage directory.
func (s *Service) EventsTokenFile() string {
	if src := s.eventsSource(); src != nil && src.Events.TokenFile != "" {
		return src.Events.TokenFile
	}
	return storageFile(s.o.StoragePath, "events.token")
}

func storageFile(dir, name string) string { return filepath.Join(dir, name) }

// eventsToken reads the bearer token pushers must send, making one the
// first time when the config names no file.
func (s *Service) eventsToken() (string, error) {
	if src := s.eventsSource(); src != nil && src.Events.TokenFile == "" {
		return s.ensureToken(s.EventsTokenFile(), "an events token; pushers send it as a bearer token")
	}
	tok, err := readToken(s.EventsTokenFile())
	if err != nil {
		return "", fmt.Errorf("reading the events token: %w", err)
	}
	return tok, nil
}

// readToken reads the token in the file at path.
func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("the token file %s is empty", path)
	}
	return tok, nil
}

// ensureToken reads the token at path, making a random one there (mode
// 0600) if there is none yet; made says what it is, for the log.
func (s *Service) ensureToken(path, made string) (string, error) {
	tok, err := readToken(path)
	if !errors.Is(err, os.ErrNotExist) {
		return tok, err
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	tok = hex.EncodeToString(raw)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	// Written whole to a file of its own (0600), then linked into place,
	// so that a request reading it meanwhile never sees it half written.
	f, err := os.CreateTemp(filepath.Dir(path), ".token-*")
	if err != nil {
		return "", fmt.Errorf("making %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(tok + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(f.Name(), path)
	}
	if errors.Is(err, os.ErrExist) {
		return readToken(path) // made meanwhile by another request
	}
	if err != nil {
		return "", fmt.Errorf("making %s: %w", path, err)
	}
	s.log.Info("made "+made, "file", path)
	return tok, nil
}

// EnsureTokens makes the tokens the service will need now, so that they
// exist before the first request, and checks the API's token files.
func (s *Service) EnsureTokens() error {
	if s.eventsSource() != nil {
		if _, err := s.eventsToken(); err != nil {
			return err
		}
	}
	return s.checkAPITokens()
}

// EnsureEventsToken makes the events token now if the service will need
// one, so that it exists before the first push.
func (s *Service) EnsureEventsToken() error {
	if s.eventsSource() == nil {
		return nil
	}
	_, err := s.eventsToken()
	return err
}
