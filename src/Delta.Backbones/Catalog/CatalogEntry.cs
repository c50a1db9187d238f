using Delta.Abstractions.Backbones;
using Delta.Backbones.Architectures;

namespace Delta.Backbones.Catalog;

/// <summary>An architecture the registry can build: its public description and a factory taking the
/// output stride (32 = undilated).</summary>
public sealed record CatalogEntry(BackboneInfo Info, Func<int, StagedBackbone> Build);
