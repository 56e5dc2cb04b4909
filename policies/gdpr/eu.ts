/** What the gdpr pack shares: the data-classification label and "is this cluster in the EU". */

export const DATA_CLASS_LABEL = 'fleetgate.io/data-classification';

/** The cluster's `region` label when it is in `euRegions`, false when it is elsewhere, undefined when unknown. */
export function inEu(clusterLabels: Readonly<Record<string, string>>, euRegions: unknown): boolean | undefined {
  const region = clusterLabels.region;
  if (region === undefined || region === '') return undefined;
  return Array.isArray(euRegions) && euRegions.includes(region);
}

export function regionsText(euRegions: unknown): string {
  return Array.isArray(euRegions) ? `[${euRegions.join(', ')}]` : '[]';
}
