# Native prerequisites of TorchSharp 0.107 and OpenCvSharp4 on Linux. Sourced by ./delta.
# Detects first and changes nothing where the system already satisfies them (Debian 13, Ubuntu 24.04).

libstdcxx_ok() {
  local lib
  for lib in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /lib/x86_64-linux-gnu/libstdc++.so.6; do
    # TorchSharp 0.107's libLibTorchSharp.so needs symbol version GLIBCXX_3.4.32 (GCC 13+).
    [ -e "$lib" ] && grep -qa 'GLIBCXX_3\.4\.32' "$lib" && return 0
  done
  return 1
}

gtk_ok() { ldconfig -p 2>/dev/null | grep -q 'libgtk-3\.so\.0'; }
dotnet_ok() { command -v dotnet >/dev/null 2>&1; }

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "delta: missing $1. Run './delta setup' as root (or: $2)." >&2
    exit 1
  fi
}

apt_updated=0
apt_update_once() { [ $apt_updated = 1 ] || { apt-get update -qq >&2; apt_updated=1; }; }

ensure_prereqs() {
  dotnet_ok || { echo "delta: the .NET SDK (dotnet, 10.0) is not on PATH; install it first." >&2; exit 1; }
  if ! libstdcxx_ok; then
    need_root "libstdc++ with GLIBCXX_3.4.32 (GCC 13+)" "add Debian trixie with pin priority 100 and apt-get install -t trixie libstdc++6"
    if grep -q 'VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null || [ "$(cut -d. -f1 /etc/debian_version 2>/dev/null)" = 12 ]; then
      echo "delta: installing libstdc++6 from Debian 13 (trixie, pinned at priority 100)..." >&2
      local src=/etc/apt/sources.list.d/delta-trixie.list pin=/etc/apt/preferences.d/delta-trixie
      # Reuse the mirror the system already uses so that only configured registries are asked.
      local mirror
      # deb822 sources first (Debian 12 default), then one-line sources; comments are skipped.
      mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
      [ -n "$mirror" ] || mirror=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
      mirror=${mirror:-http://deb.debian.org/debian}
      [ -f "$src" ] || echo "deb $mirror trixie main" > "$src"
      [ -f "$pin" ] || printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' > "$pin"
      apt_updated=0; apt_update_once
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie libstdc++6 >&2
    else
      echo "delta: this system's libstdc++ lacks GLIBCXX_3.4.32 and it is not Debian 12; install libstdc++6 from GCC 13 or newer." >&2
      exit 1
    fi
    libstdcxx_ok || { echo "delta: libstdc++ still lacks GLIBCXX_3.4.32 after the install; see above." >&2; exit 1; }
  fi
  if ! gtk_ok; then
    need_root "libgtk-3-0 (needed by OpenCvSharp4's native runtime)" "apt-get install -y libgtk-3-0"
    echo "delta: installing libgtk-3-0 for OpenCvSharp4..." >&2
    apt_update_once
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libgtk-3-0 >&2
    gtk_ok || { echo "delta: libgtk-3.so.0 still missing after the install." >&2; exit 1; }
  fi
}
