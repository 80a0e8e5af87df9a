package virt

import (
	"encoding/json"
	"fmt"
)

// KeyEvent is a key of the guest's keyboard going down or up, the key
// named by its QEMU key code (QKeyCode: "a", "shift", "ret", "f12").
type KeyEvent struct {
	QCode string
	Down  bool
}

// SendKeys sends events to the running domain's keyboard, in order, as one
// QMP input-send-event through libvirt (virDomainQemuMonitorCommand). It
// reaches the guest wherever libvirt does, over qemu+ssh too, with no VNC
// port to reach. Unlike virDomainSendKey, which presses its keys together
// and releases them after a hold time, it sends presses and releases as
// told, so a boot command can hold a key (<leftShiftOn>) while it types
// others. libvirt marks the domain "custom-monitor" tainted in its log.
func (d *Libvirt) SendKeys(dom Domain, events []KeyEvent) error {
	cmd, err := inputSendEvent(events)
	if err != nil {
		return err
	}
	reply, err := d.conn.QEMUDomainMonitorCommand(dom, cmd, 0)
	if err != nil {
		return fmt.Errorf("domain %s: sending keys: %w", dom.Name, err)
	}
	return qmpError(reply)
}

// inputSendEvent is the QMP command that sends events.
func inputSendEvent(events []KeyEvent) (string, error) {
	type key struct {
		Type string `json:"type"`
		Data string `json:"data"`
	}
	type data struct {
		Down bool `json:"down"`
		Key  key  `json:"key"`
	}
	type event struct {
		Type string `json:"type"`
		Data data   `json:"data"`
	}
	cmd := struct {
		Execute   string `json:"execute"`
		Arguments struct {
			Events []event `json:"events"`
		} `json:"arguments"`
	}{Execute: "input-send-event"}
	for _, e := range events {
		if e.QCode == "" {
			return "", fmt.Errorf("sending keys: a key event without a key code")
		}
		cmd.Arguments.Events = append(cmd.Arguments.Events, event{Type: "key", Data: data{Down: e.Down, Key: key{Type: "qcode", Data: e.QCode}}})
	}
	b, err := json.Marshal(cmd)
	return string(b), err
}

// qmpError is the error a QMP reply carries, nil for a "return".
func qmpError(reply string) error {
	var r struct {
		Return json.RawMessage `json:"return"`
		Error  *struct {
			Class string `json:"class"`
			Desc  string `json:"desc"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(reply), &r); err != nil {
		return fmt.Errorf("QMP reply %q: %w", reply, err)
	}
	if r.Error != nil {
		return fmt.Errorf("QMP: %s: %s", r.Error.Class, r.Error.Desc)
	}
	return nil
}
