package artifact

import packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

// StringMap reads a state value holding a map of strings, such as the
// cloudimage-sysprep artifact's "guest". In the same process it is the map
// itself; a post-processor in another plugin process gets it through the
// SDK's RPC as a map[interface{}]interface{} (its msgpack codec), or as a
// *map[string]string (gob's registered type). nil if the state holds no
// map.
func StringMap(a packersdk.Artifact, key string) map[string]string {
	switch v := a.State(key).(type) {
	case map[string]string:
		return v
	case *map[string]string:
		if v != nil {
			return *v
		}
	case map[string]interface{}:
		m := make(map[string]string, len(v))
		for k, x := range v {
			if s, ok := x.(string); ok {
				m[k] = s
			}
		}
		return m
	case map[interface{}]interface{}:
		m := make(map[string]string, len(v))
		for k, x := range v {
			ks, kok := k.(string)
			s, ok := x.(string)
			if kok && ok {
				m[ks] = s
			}
		}
		return m
	}
	return nil
}
