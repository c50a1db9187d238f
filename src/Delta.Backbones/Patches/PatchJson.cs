using System.Text.Json;
using System.Text.Json.Serialization;
using Delta.Abstractions.Backbones;

namespace Delta.Backbones.Patches;

/// <summary>JSON settings of patch manifests: camelCase, Δ variants by their registry names, indented.</summary>
public static class PatchJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true };
        o.Converters.Add(new DeltaVariantConverter());
        return o;
    }

    private sealed class DeltaVariantConverter : JsonConverter<DeltaVariant>
    {
        public override DeltaVariant Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            DeltaConfig.ParseVariant(reader.GetString() ?? "");
        public override void Write(Utf8JsonWriter writer, DeltaVariant value, JsonSerializerOptions options) =>
            writer.WriteStringValue(DeltaConfig.VariantName(value));
    }
}
