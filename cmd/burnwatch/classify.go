package main

import (
	"io"

	"github.com/burnwatch/burnwatch/classify"
)

func classifyCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("classify", stderr)
	config := fs.String("config", "", "a config whose classify rules and packs to use (default: every built-in pack, no rules)")
	codeLabel := fs.String("code-label", "code", "the label that holds the error code in label=value lines")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var (
		c   *classify.Classifier
		err error
	)
	if *config == "" {
		c, err = classify.New(nil, nil)
	} else {
		cfg, lerr := loadConfig(*config)
		if lerr != nil {
			return lerr
		}
		c, err = cfg.Classifier()
	}
	if err != nil {
		return err
	}
	return classify.Lines(stdin, stdout, stderr, c, *codeLabel)
}
