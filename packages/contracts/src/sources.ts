import { z } from 'zod';

/**
 * The four business lines and, for each, the channels (platforms) and categories it may report.
 * An ingest service accepts only its own source's channels and categories.
 */
export const SOURCE_CATALOGUE = {
  ecommerce: { channels: ['taobao', 'tmall', 'flash-sale'], categories: ['physical', 'virtual'] },
  food: { channels: ['eleme', 'flash-sale'], categories: ['meal', 'grocery'] },
  travel: { channels: ['fliggy'], categories: ['flight', 'hotel', 'train', 'ticket'] },
  mobility: { channels: ['ride-hailing'], categories: ['ride'] },
} as const;

export type Source = keyof typeof SOURCE_CATALOGUE;
export const SOURCES = Object.keys(SOURCE_CATALOGUE) as Source[];
export const sourceSchema = z.enum(['ecommerce', 'food', 'travel', 'mobility']);

export type Channel = (typeof SOURCE_CATALOGUE)[Source]['channels'][number];
export type Category = (typeof SOURCE_CATALOGUE)[Source]['categories'][number];

export const CHANNELS = [...new Set(SOURCES.flatMap((s) => SOURCE_CATALOGUE[s].channels))] as [
  Channel,
  ...Channel[],
];
export const CATEGORIES = [...new Set(SOURCES.flatMap((s) => SOURCE_CATALOGUE[s].categories))] as [
  Category,
  ...Category[],
];
export const channelSchema = z.enum(CHANNELS);
export const categorySchema = z.enum(CATEGORIES);
