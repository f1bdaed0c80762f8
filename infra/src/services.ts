import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ServiceInfo {
  name: string;
  dir: string;
  main: string;
  port: number;
  description: string;
}

/** Every deployable service: a `services/<name>` folder whose package.json has `taobi.port`. */
export function discoverServices(root: string): ServiceInfo[] {
  const servicesDir = join(root, 'services');
  if (!existsSync(servicesDir)) return [];
  return readdirSync(servicesDir)
    .map((name) => join(servicesDir, name))
    .filter((dir) => existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src', 'main.ts')))
    .map((dir) => {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name: string;
        description?: string;
        taobi?: { port?: number };
      };
      return {
        name: dir.split('/').pop() as string,
        dir,
        main: join(dir, 'src', 'main.ts'),
        port: pkg.taobi?.port ?? 0,
        description: pkg.description ?? '',
      };
    })
    .filter((service) => service.port > 0)
    .sort((a, b) => a.port - b.port);
}
