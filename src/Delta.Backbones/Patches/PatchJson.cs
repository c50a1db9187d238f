using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Delta.Abstractions.Patches;
using Delta.Abstractions.Backbones;

namespace Delta.Backbones.Patches;

/// <summary>JSON settings of patch manifests: camelCase, Δ variants by their registry names, indented; non-finite
/// metrics (an mIoU over a validation set without labelled pixels is NaN) as "NaN" / "Infinity" strings, so that a
/// trained patch is never lost to a metric JSON cannot spell as a number.</summary>
public static class PatchJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            WriteIndented = true,
            NumberHandling = JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.AllowNamedFloatingPointLiterals,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { OmitDerivedBaseIdentity } },
        };
        o.Converters.Add(new DeltaVariantConverter());
        return o;
    }

    /// <summary><see cref="PatchManifest.BaseIdentity"/> is computed from three stored fields; writing it too would
    /// store the same facts twice (and it is ignored on reading anyway).</summary>
    private static void OmitDerivedBaseIdentity(JsonTypeInfo info)
    {
        if (info.Type != typeof(PatchManifest)) return;
        var derived = info.Properties.FirstOrDefault(p => string.Equals(p.Name, nameof(PatchManifest.BaseIdentity), StringComparison.OrdinalIgnoreCase));
        if (derived is not null) info.Properties.Remove(derived);
    }

    private sealed class DeltaVariantConverter : JsonConverter<DeltaVariant>
    {
        public override DeltaVariant Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            DeltaConfig.ParseVariant(reader.GetString() ?? "");
        public override void Write(Utf8JsonWriter writer, DeltaVariant value, JsonSerializerOptions options) =>
            writer.WriteStringValue(DeltaConfig.VariantName(value));
    }
}
