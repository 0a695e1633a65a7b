// Command versionstamp prints what the Dockerfile's -ldflags stamp into
// github.com/prometheus/common/version, for the deploy package's test of
// them.
package main

import (
	"fmt"

	"github.com/prometheus/common/version"
)

func main() {
	fmt.Println(version.Version, version.Revision, version.Branch, version.BuildDate)
}
