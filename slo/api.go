package slo

// API says who may use serve's HTTP API besides the users of its web
// configuration file (--web.config.file: TLS client certificates and
// basic auth, as Prometheus takes them). docs/serve.md has the whole
// picture: what needs authentication and what stays open.
type API struct {
	// TokenFiles each hold a bearer token an API client (the CLI's
	// --server, a script) sends as Authorization: Bearer. They are read
	// at every request, trimmed, so that a token rotated in its file
	// works at once. Left out, serve makes one in its storage directory
	// (api.token, mode 0600) at first start and logs where.
	TokenFiles []string `yaml:"token_files,omitempty"`
	// AnonymousReads lets anyone who reaches the port read the API
	// (/api/v1/* but events: SLOs, instances, alerts, silences, reports,
	// exports) without credentials: every tenant's names and codes. Off
	// by default; whatever changes state needs credentials regardless.
	AnonymousReads bool `yaml:"anonymous_reads,omitempty"`
}

func (c *Config) validateAPI(d *document) {
	for i, f := range c.API.TokenFiles {
		if f == "" {
			d.errorf(path{"api", "token_files", i}, "is empty; name a file holding a bearer token")
		}
	}
}
