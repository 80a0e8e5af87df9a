// Package version holds the plugin's version, reported to Packer by
// `describe` and used in release asset names.
package version

import "github.com/hashicorp/packer-plugin-sdk/version"

var (
	// Version is the main version number being run right now.
	Version = "0.1.0"

	// VersionPrerelease marks a pre-release ("dev", "beta1"...). It is empty
	// for releases; `make dev` sets it to "dev" through -ldflags.
	VersionPrerelease = ""

	// VersionMetadata is build metadata ("+..." in semver), set at release.
	VersionMetadata = ""

	// PluginVersion is what the plugin reports to Packer.
	PluginVersion = version.NewPluginVersion(Version, VersionPrerelease, VersionMetadata)
)
