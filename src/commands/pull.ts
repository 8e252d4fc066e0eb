import {TransferCommand, transferArgs, transferFlags} from '../transfer-command.js';

export default class Pull extends TransferCommand {
  static override summary = 'Pull an image from a hub registry through the Docker engine, with a fresh token.';
  static override description =
    'A bare name goes to your namespace: `hub pull myapp:1.0` means REGISTRY/USERNAME/myapp:1.0. A name with a registry is used as it is.';
  static override examples = [
    '<%= config.bin %> pull myapp:1.0',
    '<%= config.bin %> pull registry.example.com/team/app:2',
    '<%= config.bin %> pull myapp:1.0 --json',
  ];

  static override args = transferArgs;
  static override flags = transferFlags;

  protected readonly direction = 'pull';
}
