package virt

import (
	"fmt"
	"regexp"
)

var (
	// A domain name that is also a safe file and volume name.
	domainName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	// The machine types the plugin knows the buses of.
	machineType = regexp.MustCompile(`^(pc|q35|pc-i440fx-[0-9.]+|pc-q35-[0-9.]+)$`)
)

// CheckDomainName fails a vm_name that is not also a safe file and volume
// name: the builder and verify name their volumes and files after it.
func CheckDomainName(field, name string) error {
	if !domainName.MatchString(name) {
		return fmt.Errorf("%s %q: use 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit", field, name)
	}
	return nil
}

// CheckMachineType fails a machine type the plugin does not know the
// buses of.
func CheckMachineType(field, value string) error {
	if !machineType.MatchString(value) {
		return fmt.Errorf("%s %q is not one of pc, q35, pc-i440fx-X.Y, pc-q35-X.Y", field, value)
	}
	return nil
}

// Bus is a disk or CD-ROM bus setting: its field's name and value.
type Bus struct{ Field, Value string }

// CheckBuses fails an IDE disk or CD-ROM on a q35 machine, which has no
// IDE controller.
func CheckBuses(machineType string, buses ...Bus) error {
	if !IsQ35(machineType) {
		return nil
	}
	for _, b := range buses {
		if b.Value == "ide" {
			return fmt.Errorf(`%s "ide": machine_type %q (q35) has no IDE controller; use "sata"`, b.Field, machineType)
		}
	}
	return nil
}
