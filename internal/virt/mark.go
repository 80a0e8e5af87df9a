package virt

import (
	"encoding/xml"
	"fmt"
	"os"
	"strings"
	"time"
)

// MarkNamespace is the XML namespace of the mark the plugin puts in the
// <metadata> of every domain it defines. Only a domain that carries it, and
// only the volumes its mark lists, are ever destroyed or deleted.
const MarkNamespace = "https://github.com/cloudimage/packer-plugin-cloudimage/xmlns/build/1"

// Mark says which build made a domain, and lists the volumes that build
// created for it. A volume is listed before it is created, so that a build
// killed at any point leaves nothing of its own unlisted.
type Mark struct {
	XMLName xml.Name `xml:"https://github.com/cloudimage/packer-plugin-cloudimage/xmlns/build/1 build"`
	// Component is the plugin component that made it: cloudimage-libvirt,
	// cloudimage-verify.
	Component string `xml:"component"`
	// Host and PID are the plugin process's: a build that runs now holds
	// its name even against -force.
	Host    string       `xml:"host"`
	PID     int          `xml:"pid"`
	Created string       `xml:"created"`
	Volumes []MarkVolume `xml:"volume"`
}

// MarkVolume is a volume a build created.
type MarkVolume struct {
	Pool string `xml:"pool,attr"`
	Name string `xml:"name,attr"`
}

// newMark is the mark of a domain this process defines now.
func newMark(component string) *Mark {
	host, _ := os.Hostname()
	return &Mark{Component: component, Host: host, PID: os.Getpid(), Created: time.Now().UTC().Format(time.RFC3339)}
}

// lists reports whether the mark lists a volume.
func (m *Mark) lists(pool, name string) bool {
	for _, v := range m.Volumes {
		if v.Pool == pool && v.Name == name {
			return true
		}
	}
	return false
}

func (m *Mark) unlist(pool, name string) {
	var keep []MarkVolume
	for _, v := range m.Volumes {
		if v.Pool != pool || v.Name != name {
			keep = append(keep, v)
		}
	}
	m.Volumes = keep
}

// String describes the build that made the domain, for error messages.
func (m *Mark) String() string {
	return fmt.Sprintf("%s, process %d on %s, %s", m.Component, m.PID, m.Host, m.Created)
}

// volumeList names the listed volumes, for messages.
func (m *Mark) volumeList() string {
	var names []string
	for _, v := range m.Volumes {
		names = append(names, v.Pool+"/"+v.Name)
	}
	if len(names) == 0 {
		return "no volumes"
	}
	return "volumes " + strings.Join(names, ", ")
}

// xml is the mark as an element of a domain's <metadata>.
func (m *Mark) xml() (string, error) {
	b, err := xml.Marshal(m)
	return string(b), err
}

// ParseMark finds the plugin's mark among the elements of a domain's
// <metadata> (its inner XML); nil when there is none: a domain someone
// else made.
func ParseMark(metadata string) (*Mark, error) {
	var doc struct {
		Mark *Mark `xml:"https://github.com/cloudimage/packer-plugin-cloudimage/xmlns/build/1 build"`
	}
	if err := xml.Unmarshal([]byte("<metadata>"+metadata+"</metadata>"), &doc); err != nil {
		return nil, fmt.Errorf("reading a domain's metadata: %w", err)
	}
	return doc.Mark, nil
}
