// Options every `fink` command shares.
import { Option } from 'commander';

/** `-c <file>`: the config file, as the Fink broker's `fink start <service> -c <conf>`. */
export function configOption(): Option {
  return new Option(
    '-c, --config <file>',
    'config file (YAML); FINK_<SECTION>__<KEY> environment variables override it',
  );
}
